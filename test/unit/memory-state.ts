import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

import type { StateStore } from '../../src/store/types.js';

/** A StateStore kept in memory (JSON-copied like a real one), for the arithmetic tests of the CA budgets. */
export class MemoryState implements StateStore {
  readonly docs = new Map<string, string>();
  puts = 0;
  gets = 0;

  async getState<T>(key: string): Promise<T | undefined> {
    this.gets += 1;
    const text = this.docs.get(key);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  /** Atomic by construction: nothing runs between the read and the write. */
  async updateState<T>(key: string, update: (current: T | undefined) => T): Promise<T> {
    const next = update(await this.getState<T>(key));
    this.puts += 1;
    this.docs.set(key, JSON.stringify(next));
    return next;
  }

  /** Replaces a document, as another run's update would. */
  set(key: string, value: unknown): void {
    this.docs.set(key, JSON.stringify(value));
  }

  /** The stored document under `key`. */
  doc<T>(key: string): T | undefined {
    const text = this.docs.get(key);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }
}

/** Writes `text` (not JSON) as the filesystem store's state document `key` in `dir`; returns the file's path. */
export async function writeDamagedState(dir: string, key: string, text: string): Promise<string> {
  const file = path.join(dir, 'state', `${key}.json`);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
  return file;
}

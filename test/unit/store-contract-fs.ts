// The filesystem backend of the store contract (test/contract/store-contract.ts), for the two test files that
// run it (store-contract-fs*.test.ts; the contract is split so each stays inside the runner's time per file):
// another run is another FileStore on the same folder, another process a node child, and a principal that may
// only read is uid 65534 when this runs as root (else the folder is made read-only for the reads).
import { spawn } from 'node:child_process';
import { chmod, lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { pathToFileURL } from 'node:url';

import { openStore } from '../../src/store/index.js';
import type { ReaderView, StoreBackend } from '../contract/store-contract.js';

const STORE_MODULE = pathToFileURL(path.resolve('src/store/index.ts')).href;
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

let root = '';
let counter = 0;

/** Registers the temp root of this test file (traversable by the unprivileged reader), removed afterwards. */
export function useContractRoot(): void {
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'certman-contract-'));
    await chmod(root, 0o755);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });
}

/** A new store folder's path under the root. */
export function freshStoreDir(): string {
  counter += 1;
  return path.join(root, `store-${counter}`);
}

/** Every entry under `dir` with what a write would change: type, mode, size, mtime, link target's name. */
export async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at)) {
      const file = path.join(at, entry);
      const info = await lstat(file);
      out.set(path.relative(dir, file), `${info.mode}:${info.size}:${info.mtimeMs}:${info.ino}`);
      if (info.isDirectory()) await walk(file);
    }
  };
  await walk(dir);
  return out;
}

export function differences(before: Map<string, string>, afterwards: Map<string, string>): string[] {
  const keys = new Set([...before.keys(), ...afterwards.keys()]);
  return [...keys].filter((key) => before.get(key) !== afterwards.get(key)).sort();
}

/** The reads of the contract's reader, as a script body (the store opened writable, as `certificates` may). */
function readerScript(dir: string): string {
  return `
    const out = {};
    try {
      const { openStore } = await import(${JSON.stringify(STORE_MODULE)});
      for (const readOnly of [false, true]) {
        const store = await openStore(${JSON.stringify(dir)}, { readOnly });
        out.names = await store.names();
        out.listed = (await store.list()).map((m) => m.name);
        out.problems = store.problemDetails().map((p) => p.name + ': ' + p.reason);
        out.first = await store.get(out.names[0]);
      }
    } catch (err) {
      out.error = String(err && err.stack || err);
    }
    console.log(JSON.stringify(out));`;
}

export function runReader(dir: string): Promise<ReaderView> {
  const options = isRoot ? { uid: NOBODY, gid: NOBODY } : {};
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', readerScript(dir)], {
      ...options,
      // tsx keeps its cache per user in the temp folder; HOME may not be the reader's.
      env: { ...process.env, HOME: os.tmpdir() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      try {
        resolve(JSON.parse(out) as ReaderView);
      } catch {
        reject(new Error(`the reader exited ${code}: ${err}`));
      }
    });
  });
}

/** Makes every folder of `dir` read-only (or writable again) for its owner: how a reader sees it without root. */
async function setWritable(dir: string, writable: boolean): Promise<void> {
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) if (entry.isDirectory()) await walk(path.join(at, entry.name));
    const mode = (await lstat(at)).mode & 0o777;
    await chmod(at, writable ? mode | 0o200 : mode & ~0o222);
  };
  await walk(dir);
}

export const fsBackend: StoreBackend = {
  name: 'filesystem',
  async create() {
    const dir = freshStoreDir();
    const store = await openStore(dir);
    return {
      store,
      another: () => openStore(dir),
      openInChildSource: `await (await import(${JSON.stringify(STORE_MODULE)})).openStore(${JSON.stringify(dir)})`,
      childNodeArgs: ['--import', 'tsx'],
      async readWithoutWriting() {
        const before = await snapshot(dir);
        if (!isRoot) await setWritable(dir, false);
        let view: ReaderView;
        try {
          view = await runReader(dir);
        } finally {
          if (!isRoot) await setWritable(dir, true);
        }
        return { view, changed: differences(before, await snapshot(dir)) };
      },
    };
  },
};

// The filesystem backend of the store contract (test/contract/store-contract.ts), for the two test files that
// run it (store-contract-fs*.test.ts; the contract is split so each stays inside the runner's time per file):
// another run is another FileStore on the same folder, another process a node child, and a principal that may
// only read is uid 65534 when this runs as root (else the folder is made read-only for the reads).
import { chmod, lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { pathToFileURL } from 'node:url';

import { openStore } from '../../src/store/index.js';
import { differences, runReaderChild } from '../contract/reader.js';
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

export function runReader(dir: string): Promise<ReaderView> {
  return runReaderChild({
    storeModule: STORE_MODULE,
    openSource: `stores.openStore(${JSON.stringify(dir)}, { readOnly })`,
    nodeArgs: ['--import', 'tsx'],
    ...(isRoot ? { uid: NOBODY } : {}),
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

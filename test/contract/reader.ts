// The contract's reader (ContractStores.readWithoutWriting): a node child that opens the store writable and then
// read-only, as `certificates` and completion may, and reports what it read (or the error) as JSON.
import { spawn } from 'node:child_process';
import os from 'node:os';

import type { ReaderView } from './store-contract.js';

export interface ReaderChildOptions {
  /** URL of the store module (src/store/index.ts), imported as `stores` before anything else. */
  storeModule: string;
  /** Source of an expression opening the store; `stores` (the store module) and `readOnly` (a boolean) are in scope. */
  openSource: string;
  /** Node arguments before `-e` (e.g. a TypeScript loader). */
  nodeArgs: string[];
  /** Run as this user (and group), e.g. one that may not write the store. */
  uid?: number;
}

/** The entries (files, keys) whose snapshot differs: what a reader changed. */
export function differences(before: Map<string, string>, afterwards: Map<string, string>): string[] {
  const keys = new Set([...before.keys(), ...afterwards.keys()]);
  return [...keys].filter((key) => before.get(key) !== afterwards.get(key)).sort();
}

/**
 * With `uid`, the child becomes that user only after a read-only open as root has loaded every module: the
 * reader needs no access to the checkout (a CI clone may sit in a folder only root can enter), only to the store.
 */
function readerScript(storeModule: string, openSource: string, uid: number | undefined): string {
  const become =
    uid === undefined
      ? ''
      : `{ const readOnly = true; const warm = await (${openSource}); await warm.close?.(); }
         process.setgroups([]); process.setgid(${uid}); process.setuid(${uid});`;
  return `
    const out = {};
    try {
      const stores = await import(${JSON.stringify(storeModule)});
      ${become}
      for (const readOnly of [false, true]) {
        const store = await (${openSource});
        try {
          out.names = await store.names();
          out.listed = (await store.list()).map((m) => m.name);
          out.problems = store.problemDetails().map((p) => p.name + ': ' + p.reason);
          out.first = await store.get(out.names[0]);
        } finally {
          await store.close?.();
        }
      }
    } catch (err) {
      out.error = String(err && err.stack || err);
    }
    console.log(JSON.stringify(out));`;
}

export function runReaderChild(options: ReaderChildOptions): Promise<ReaderView> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...options.nodeArgs, '--input-type=module', '-e', readerScript(options.storeModule, options.openSource, options.uid)], {
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

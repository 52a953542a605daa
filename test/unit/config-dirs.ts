import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';

/**
 * Registers a temp root for this test file (removed afterwards) and returns a function giving a new
 * config dir path under it each call. The dir does not exist yet: stores create it.
 */
export function configDirs(prefix: string): () => string {
  let root = '';
  let counter = 0;
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), `certman-${prefix}-`));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });
  return () => {
    counter += 1;
    return path.join(root, `config-${counter}`);
  };
}

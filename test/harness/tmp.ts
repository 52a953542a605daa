import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { onExitCleanup } from './proc.js';

const created = new Set<string>();
let exitHookInstalled = false;

/**
 * Creates a fresh directory under the OS temp dir (`certman-<prefix>-XXXXXX`).
 * Directories still present when the process exits (or is stopped by
 * SIGINT/SIGTERM/SIGHUP) are removed, unless
 * CERTMAN_KEEP_TMP=1 is set (handy when debugging a failing test).
 */
export async function tempDir(prefix = 'test'): Promise<string> {
  const safe = prefix.replace(/[^A-Za-z0-9_.-]/g, '_');
  const dir = await mkdtemp(join(tmpdir(), `certman-${safe}-`));
  created.add(dir);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    onExitCleanup(() => {
      if (process.env.CERTMAN_KEEP_TMP === '1') return;
      for (const d of created) rmSync(d, { recursive: true, force: true, maxRetries: 3 });
    });
  }
  return dir;
}

/** Removes one directory made by tempDir (or any path) recursively; never throws on a missing path. */
export async function removeTempDir(dir: string): Promise<void> {
  created.delete(dir);
  if (process.env.CERTMAN_KEEP_TMP === '1') return;
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** Removes every directory tempDir has created so far (use in an `after` hook). */
export async function cleanupTempDirs(): Promise<void> {
  await Promise.all([...created].map((d) => removeTempDir(d)));
}

/**
 * A DNS name nobody has used before: `<label>-<10 hex>.certman.test`.
 * Pebble may reuse valid authorizations for a name, so tests that need a real
 * validation must use fresh names.
 */
export function uniqueName(label = 'test'): string {
  const clean =
    label
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'test';
  return `${clean}-${randomBytes(5).toString('hex')}.certman.test`;
}

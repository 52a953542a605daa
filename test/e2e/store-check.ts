// What a fault must never leave behind in a config dir: a half-switched lineage, a journal, a lock.
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunResult } from '../harness/index.js';

const FILES = ['cert', 'chain', 'fullchain', 'privkey'] as const;

/** Archive version each lineage's live/ links point at, by name. */
export type LiveVersions = Map<string, number>;

async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Reads live/: every link of a lineage must name one archive version, whose certificate matches its key. */
export async function liveVersions(configDir: string): Promise<LiveVersions> {
  const versions: LiveVersions = new Map();
  for (const name of await entries(join(configDir, 'live'))) {
    const links = await Promise.all(FILES.map((file) => readlink(join(configDir, 'live', name, `${file}.pem`))));
    const numbers = new Set(links.map((link, i) => Number(new RegExp(`^\\.\\./\\.\\./archive/[^/]+/${FILES[i]}(\\d+)\\.pem$`).exec(link)?.[1])));
    assert.equal(numbers.size, 1, `live/${name} links point at one version: ${links.join(', ')}`);
    const version = [...numbers][0] ?? NaN;
    assert.ok(Number.isInteger(version), `live/${name} links into its archive: ${links.join(', ')}`);
    const [cert, key] = await Promise.all([readFile(join(configDir, 'live', name, 'cert.pem'), 'utf8'), readFile(join(configDir, 'live', name, 'privkey.pem'), 'utf8')]);
    assert.ok(new X509Certificate(cert).checkPrivateKey(createPrivateKey(key)), `live/${name}: the certificate matches its key`);
    versions.set(name, version);
  }
  return versions;
}

/**
 * After a fault: each lineage of `before` is as it was or wholly on its next version, no live/ switch is
 * left half done (.pending/), no lock is left held (.locks/), and `certificates` still lists every one.
 */
export async function assertIntact(
  configDir: string,
  before: LiveVersions,
  certificates: () => Promise<RunResult>,
): Promise<LiveVersions> {
  const after = await liveVersions(configDir);
  for (const [name, version] of before) {
    const now = after.get(name);
    assert.ok(now === version || now === version + 1, `live/${name} is on version ${version} or ${version + 1}, not ${String(now)}`);
  }
  assert.deepEqual(await entries(join(configDir, '.pending')), [], 'no live/ switch left half done');
  assert.deepEqual((await entries(join(configDir, '.locks'))).filter((f) => f.endsWith('.lock')), [], 'no lock left held');
  const listed = await certificates();
  assert.equal(listed.code, 0, listed.stderr);
  const names = (JSON.parse(listed.stdout) as { name: string }[]).map((c) => c.name).sort();
  assert.deepEqual(names, [...after.keys()].sort(), 'certificates lists every lineage');
  return after;
}

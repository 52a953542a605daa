// What a CA fault must never leave behind in a config dir: on top of the harness's store check (complete,
// matching live/ sets, no journal, no lock, no temp file), every lineage is as it was or wholly renewed.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { storeProblems, type RunResult } from '../harness/index.js';

/** Archive version each lineage's live/ set is on, by name. */
export type LiveVersions = Map<string, number>;

/** The version of every lineage, once the store is found sound (its metadata then names the live version). */
export async function liveVersions(configDir: string): Promise<LiveVersions> {
  const problems = await storeProblems(configDir);
  assert.deepEqual(problems, [], `the store in ${configDir} is damaged:\n${problems.join('\n')}`);
  const files = await readdir(join(configDir, 'renewal')).catch(() => []);
  const versions: LiveVersions = new Map();
  for (const file of files.filter((f) => f.endsWith('.json') && !f.startsWith('.'))) {
    const meta = JSON.parse(await readFile(join(configDir, 'renewal', file), 'utf8')) as { name: string; version: number };
    versions.set(meta.name, meta.version);
  }
  return versions;
}

/** After a fault: the store is sound, each lineage of `before` is on its version or the next, and `certificates` lists every one. */
export async function assertIntact(configDir: string, before: LiveVersions, certificates: () => Promise<RunResult>): Promise<LiveVersions> {
  const after = await liveVersions(configDir);
  for (const [name, version] of before) {
    const now = after.get(name);
    assert.ok(now === version || now === version + 1, `live/${name} is on version ${version} or ${version + 1}, not ${String(now)}`);
  }
  const listed = await certificates();
  assert.equal(listed.code, 0, listed.stderr);
  const names = (JSON.parse(listed.stdout) as { name: string }[]).map((c) => c.name).sort();
  assert.deepEqual(names, [...after.keys()].sort(), 'certificates lists every lineage');
  return after;
}

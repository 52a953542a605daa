// What the suites that hurt certman's store (crash, storage-faults) run and check between their blows.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertStoreSound, certmanEnv, runCli, type RunOptions, type RunResult } from '../harness/index.js';
import { json, type Suite } from './fixture.js';

export const RENEW = ['renew', '--force', '--no-random-sleep'];

export interface StoreRuns {
  /** certman with `dir` as its config dir, against the suite's Pebble. */
  run(dir: string, args: string[], options?: RunOptions): Promise<RunResult>;
  /** `certman --json certificates` lists exactly `names`, each with the serial of its live certificate. */
  assertListed(dir: string, names: string[]): Promise<void>;
  /** An uncut `renew --force`: every certificate renewed, the store sound afterwards. */
  renewAll(dir: string, names: string[]): Promise<RunResult>;
}

/** Serial (lowercase hex) of live/<name>/cert.pem. */
export async function liveSerial(dir: string, name: string): Promise<string> {
  return new X509Certificate(await readFile(join(dir, 'live', name, 'cert.pem'))).serialNumber.toLowerCase();
}

export function storeRuns(suite: Suite): StoreRuns {
  const run = (dir: string, args: string[], options: RunOptions = {}) =>
    runCli(args, { ...options, env: { ...certmanEnv(suite.pebble, dir), ...options.env } });
  return {
    run,
    async assertListed(dir, names) {
      const r = await run(dir, ['--json', 'certificates']);
      assert.equal(r.code, 0, r.stderr);
      const rows = json<{ name: string; serial: string }[]>(r);
      assert.deepEqual(rows.map((row) => row.name), [...names].sort());
      for (const row of rows) {
        // A kill that cut a switch short left a journal: the version it names is committed (the next writable open
        // finishes the switch), and the read-only listing shows it; live/ still has the one before until then.
        if (existsSync(join(dir, '.pending', row.name))) continue;
        assert.equal(BigInt(`0x${row.serial}`), BigInt(`0x${await liveSerial(dir, row.name)}`), row.name);
      }
    },
    async renewAll(dir, names) {
      const r = await run(dir, ['--json', ...RENEW]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const results = json<{ results: { name: string; status: string }[] }>(r).results;
      assert.deepEqual(results.map((x) => [x.name, x.status]).sort(), names.map((n) => [n, 'renewed']).sort());
      await assertStoreSound(dir, { names });
      return r;
    },
  };
}

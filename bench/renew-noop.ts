// No-op `certman renew` over a large store: wall time and peak RSS (targets: ≤ 1 s and ≤ 150 MB
// for 10,000 certificates on a 2-core machine). bench/compare runs a no-op renew side by side with
// certbot and lego (over copies of one real lineage).
//
//   node --import tsx bench/renew-noop.ts [count]        (default 10000; BENCH_RUNS=5)
//
// The store is built once (real X.509 certificates with expiry dates spread over 90 days, written
// through certman's own FileStore) and cached in $TMPDIR/certman-bench-<count>.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../src/store/index.js';
import { saveLeased } from '../test/harness/store-fixtures.js';
import { cliEnv } from '../test/harness/index.js';
import { measure, median, rssMethod, type Command, type Sample } from './lib/measure.js';
import { formatMs } from './lib/report.js';
import { benchLineages } from './lib/lineages.js';

const count = Number(process.argv[2] ?? 10_000);
const runs = Number(process.env.BENCH_RUNS ?? 5);
const dir = join(tmpdir(), `certman-bench-${count}`);
const bin = fileURLToPath(new URL('../bin/certman', import.meta.url));

async function build(): Promise<void> {
  const lineage = await benchLineages();
  const store = await openStore(dir);
  const started = Date.now();
  for (let i = 0; i < count; i += 1) {
    const { meta, files } = await lineage(i);
    await saveLeased(store, meta, files);
    if (i % 1000 === 999) process.stderr.write(`built ${i + 1}/${count} (${Math.round((Date.now() - started) / 1000)} s)\n`);
  }
}

if (!existsSync(join(dir, 'renewal'))) {
  process.stderr.write(`building a store of ${count} certificates in ${dir}\n`);
  await build();
}
const renew: Command = { cmd: process.execPath, args: [bin, '--config-dir', dir, 'renew', '-q', '--no-random-sleep'], env: cliEnv() };
const results: Sample[] = [];
for (let run = 0; run < runs; run += 1) results.push(await measure(renew));
const failed = results.find((r) => r.code !== 0);
if (failed !== undefined) throw new Error(`certman renew exited ${failed.code}:\n${failed.output}`);
const rss = results.flatMap((r) => (r.rssKb === undefined ? [] : [r.rssKb / 1024]));
console.log(`no-op renew over ${count} certificates, median of ${runs} runs (peak RSS: ${rssMethod()})`);
console.log(`certman  ${formatMs(median(results.map((r) => r.ms))).padStart(9)}  ${rss.length === 0 ? 'n/a' : median(rss).toFixed(0).padStart(4)} MiB peak RSS`);

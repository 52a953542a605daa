// Renewing N due certificates in one run with the default concurrency against a local Pebble
// (PEBBLE_VA_NOSLEEP=1). Target: 20 certificates in ≤ 3 s. bench/compare runs the same against
// certbot and lego.
//
//   node --import tsx bench/renew-due.ts [count]     (default 20)
import { startPebble } from '../test/harness/index.js';
import { median, runLanes } from './lib/measure.js';
import { formatMs } from './lib/report.js';
import { certmanTool } from './lib/tools.js';

const count = Number(process.argv[2] ?? 20);
const runs = 3;
const pebble = await startPebble();
try {
  const lanes = await certmanTool({ pebble }).prepareRenewAll(count);
  const times: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const r = await runLanes(lanes);
    if (r.failure !== undefined) throw new Error(`certman renew failed (exit ${r.failure.sample.code}):\n${r.failure.sample.output}`);
    times.push(r.ms);
  }
  console.log(`renew ${count} due certificates (default concurrency), median of ${runs} runs: ${formatMs(median(times))} wall (including node start-up)`);
} finally {
  await pebble.stop();
}

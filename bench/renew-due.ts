// Renewing N due certificates in one run with the default concurrency against a local Pebble
// (PEBBLE_VA_NOSLEEP=1). Target: 20 certificates in ≤ 3 s. Field notes: certbot needs ≈ 52 s
// for 20 one after another, ≈ 14 s as 4 parallel processes.
//
//   node --import tsx bench/renew-due.ts [count]     (default 20)
import { runCli, startPebble, tempDir, uniqueName, certmanEnv } from '../test/harness/index.js';

const count = Number(process.argv[2] ?? 20);
const pebble = await startPebble();
try {
  const dir = await tempDir('bench');
  const env = certmanEnv(pebble, dir);
  const must = async (args: string[]) => {
    const r = await runCli(args, { env });
    if (r.code !== 0) throw new Error(`certman ${args.join(' ')} failed: ${r.stderr}`);
    return r;
  };
  await must(['register', '--email', 'bench@example.com', '--agree-tos']);
  const standalone = ['--standalone', '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1'];
  for (let i = 0; i < count; i += 1) await must(['issue', '-d', uniqueName(`due${i}`), ...standalone]);
  const times: number[] = [];
  for (let run = 0; run < 3; run += 1) {
    const r = await must(['renew', '--force', '--no-random-sleep', '-q']);
    times.push(r.durationMs);
  }
  times.sort((a, b) => a - b);
  console.log(`renew ${count} due certificates (default concurrency), median of 3 runs: ${times[1]} ms wall (including node start-up)`);
} finally {
  await pebble.stop();
}

#!/usr/bin/env node
// Startup cost of `certman --version`, `--help` and `__complete cert-names` against a bare `node -e 0` (target: ≤ 1.3×),
// and against certbot/lego when they are installed. Prints medians over N runs.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const runs = Number(process.env.RUNS ?? 30);
const bin = fileURLToPath(new URL('../bin/certman', import.meta.url));

function median(cmd, args) {
  const times = [];
  for (let i = 0; i < runs; i += 1) {
    const start = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: 'ignore' });
    if (r.error) return undefined;
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const baseline = median(process.execPath, ['-e', '0']);
const rows = [
  ['node -e 0', baseline],
  ['certman --version', median(process.execPath, [bin, '--version'])],
  ['certman --help', median(process.execPath, [bin, '--help'])],
  // What a shell runs on Tab after --cert-name: should cost what --version costs.
  ['certman __complete', median(process.execPath, [bin, '__complete', 'cert-names'])],
  ['certbot --version', median('certbot', ['--version'])],
  ['lego --version', median('lego', ['--version'])],
];
console.log(`startup, median of ${runs} runs`);
for (const [name, ms] of rows) {
  if (ms === undefined) continue;
  console.log(`${name.padEnd(20)} ${ms.toFixed(1).padStart(7)} ms  ${(ms / baseline).toFixed(2)}× node`);
}

// Startup cost of `certman --version`, `--help` and `__complete cert-names` against a bare `node -e 0` (target: ≤ 1.3×),
// and against certbot/lego when they are installed. Prints medians over RUNS runs (default 30).
// Run through bench/startup.mjs; bench/compare measures --version side by side with certbot and lego too.
import { certmanBin, which } from '../test/harness/index.js';
import { measure, median, type Command } from './lib/measure.js';
import { formatMs } from './lib/report.js';

const runs = Number(process.env.RUNS ?? 30);

async function medianMs(command: Command): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) times.push((await measure(command, false)).ms);
  return median(times);
}

const node = (args: string[]): Command => ({ cmd: process.execPath, args });
const rows: [string, Command][] = [
  ['node -e 0', node(['-e', '0'])],
  ['certman --version', node([certmanBin, '--version'])],
  ['certman --help', node([certmanBin, '--help'])],
  // What a shell runs on Tab after --cert-name: should cost what --version costs.
  ['certman __complete', node([certmanBin, '__complete', 'cert-names'])],
];
for (const tool of ['certbot', 'lego']) if (which(tool) !== undefined) rows.push([`${tool} --version`, { cmd: tool, args: ['--version'] }]);

console.log(`startup, median of ${runs} runs`);
let baseline = 0;
for (const [name, command] of rows) {
  const ms = await medianMs(command);
  baseline ||= ms;
  console.log(`${name.padEnd(20)} ${formatMs(ms).padStart(9)}  ${(ms / baseline).toFixed(2)}× node`);
}

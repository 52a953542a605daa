// certman side by side with certbot and lego on one harness Pebble (no nonce rejection, no authorization
// reuse, a fresh name for every issuance): cold --version, one issuance, renewing many due certificates,
// and a no-op renew over large stores; wall time and peak RSS. Prints a markdown table of medians.
// Figures only: nothing here asserts a speed. Run it through bench/compare (which builds dist/ first).
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';

import { repoRoot, startPebble, uniqueName } from '../test/harness/index.js';
import { rssMethod, runLanes, type Command, type RunResult } from './lib/measure.js';
import { count, figures, formatMs, table, type Cell, type Row } from './lib/report.js';
import { availableTools, type Tool } from './lib/tools.js';

const USAGE = `usage: bench/compare [--quick] [--tools certman,certbot,lego] [--certbot-lanes N] [--lego-lanes N]
                     [--noop-lanes N] [--cap-seconds S]

  --quick            fewer runs and lineages: a smoke check of the whole script (a few minutes)
  --tools LIST       which tools to run (default: all three; certman always runs: it is the base of the ratios)
  --certbot-lanes N  certbot processes at once renewing the due certificates, each over its own store
                     (default 10)
  --lego-lanes N     lego processes at once renewing the due certificates, one certificate each (default 20)
  --noop-lanes N     lego processes at once for the no-op renew, one certificate each (default 2 per CPU)
  --cap-seconds S    a no-op renew projected to take longer than S seconds per run runs over fewer
                     lineages, and its time for all of them is projected linearly (default 60)`;

function usageError(message: string): never {
  console.error(`bench/compare: ${message}\n${USAGE}`);
  process.exit(2);
}

const OPTIONS = {
  quick: { type: 'boolean', default: false },
  tools: { type: 'string', default: 'certman,certbot,lego' },
  'certbot-lanes': { type: 'string', default: '10' },
  'lego-lanes': { type: 'string', default: '20' },
  'noop-lanes': { type: 'string', default: String(availableParallelism() * 2) },
  'cap-seconds': { type: 'string', default: '60' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function parseFlags() {
  try {
    return parseArgs({ options: OPTIONS }).values;
  } catch (err) {
    return usageError(err instanceof Error ? err.message : String(err));
  }
}
const flags = parseFlags();
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}
const positive = (name: string, text: string, max = 100_000): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) usageError(`--${name} must be a whole number from 1 to ${max}`);
  return n;
};
// Each lane binds its own loopback address, 127.0.0.20 and up.
const certbotLanes = positive('certbot-lanes', flags['certbot-lanes'], 200);
const legoLanes = positive('lego-lanes', flags['lego-lanes'], 200);
const noopLanes = positive('noop-lanes', flags['noop-lanes']);
const capMs = positive('cap-seconds', flags['cap-seconds']) * 1000;
// certman is always measured: it is the base of every ratio.
const wanted = [...new Set(['certman', ...flags.tools.split(',').map((t) => t.trim()).filter(Boolean)])];
for (const tool of wanted) if (!['certman', 'certbot', 'lego'].includes(tool)) usageError(`unknown tool ${JSON.stringify(tool)} in --tools`);

const plan = flags.quick
  ? { versionRuns: 5, issueRuns: 2, due: 5, dueRuns: 1, noop: [{ size: 50, runs: 2 }, { size: 500, runs: 1 }] }
  : { versionRuns: 20, issueRuns: 5, due: 20, dueRuns: 3, noop: [{ size: 500, runs: 5 }, { size: 10_000, runs: 3 }] };

const say = (text: string): void => void process.stderr.write(`bench: ${text}\n`);
const loadAtStart = loadavg()[0] ?? 0;
const started = Date.now();

const pebble = await startPebble();
const { tools, notes } = availableTools({ pebble, certbotLanes, legoLanes, noopLanes }, wanted);
for (const note of notes) say(note);
const names = tools.map((t) => t.name);
const rows: Row[] = [];
const footnotes: string[] = [];
/** Tools whose set-up failed: left out of the later steps. */
const broken = new Map<string, string>();

function newRow(label: string): Row {
  const row: Row = { label, cells: new Map() };
  for (const name of wanted) if (!names.includes(name as Tool['name'])) row.cells.set(name, { runs: [], problem: 'not installed' });
  for (const [name, why] of broken) row.cells.set(name, { runs: [], problem: why });
  rows.push(row);
  return row;
}

const working = (): Tool[] => tools.filter((t) => !broken.has(t.name));

/** Certificates Pebble has issued so far: a renewal that did not happen must not pass for a fast one. */
const issuedSoFar = (): number => pebble.log().match(/Issued certificate serial/g)?.length ?? 0;

/** What is wrong with a finished run: a failing process, or not the number of certificates expected. */
function runProblem(result: RunResult, issued: number, expected: number | undefined): string | undefined {
  if (result.failure !== undefined) {
    const { command, sample } = result.failure;
    say(`\`${command.cmd} ${command.args.join(' ')}\` exited ${sample.code}:\n${sample.output}`);
    return `failed (exit ${sample.code})`;
  }
  if (expected !== undefined && issued !== expected) return `issued ${issued} certificates, not ${expected}`;
  return undefined;
}

/** Runs the lanes; Pebble must issue `expected` certificates meanwhile (unless undefined). */
async function checkedRun(lanes: Command[][], expected: number | undefined): Promise<{ result: RunResult; problem?: string }> {
  const before = issuedSoFar();
  const result = await runLanes(lanes);
  return { result, problem: runProblem(result, issuedSoFar() - before, expected) };
}

/** One timed run into `cell`; a failed run marks the cell failed, and says why. */
async function timed(cell: Cell, name: string, what: string, lanes: Command[][], expected?: number): Promise<void> {
  const { result, problem } = await checkedRun(lanes, expected);
  if (problem !== undefined) {
    say(`${what}: ${name} ${problem}`);
    cell.problem ??= problem;
  } else {
    cell.runs.push(result);
    say(`${what}: ${name} ${formatMs(result.ms)}`);
  }
}

/** Runs `step` for every working tool; a throwing tool is reported and left out of `row` and later rows. */
async function eachTool(what: string, step: (tool: Tool) => Promise<void>, row?: Row): Promise<void> {
  for (const tool of working()) {
    try {
      await step(tool);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      say(`${tool.name}: ${what} failed, left out from here on:\n${message}`);
      broken.set(tool.name, `${what} failed`);
      row?.cells.set(tool.name, { runs: [], problem: `${what} failed` });
    }
  }
}

const cellOf = (row: Row, name: string): Cell => {
  let cell = row.cells.get(name);
  if (cell === undefined) row.cells.set(name, (cell = { runs: [] }));
  return cell;
};

try {
  // --- cold --version: a new process every time; one untimed run first fills the page cache. ---
  const floor: Command = { cmd: process.execPath, args: ['-e', '0'] };
  const versionRow = newRow('cold `--version`');
  const floorRow = newRow('`node -e 0` (certman\'s floor)');
  await runLanes([[floor]]);
  for (const tool of tools) await runLanes([[tool.version()]]);
  for (let run = 1; run <= plan.versionRuns; run += 1) {
    await timed(cellOf(floorRow, 'certman'), 'node', `--version ${run}/${plan.versionRuns}`, [[floor]]);
    for (const tool of tools) await timed(cellOf(versionRow, tool.name), tool.name, `--version ${run}/${plan.versionRuns}`, [[tool.version()]]);
  }

  // --- account and the lineage the no-op stores copy: untimed. ---
  await eachTool('set-up (account and a first certificate)', (tool) => tool.prepare());

  // --- one issuance each, rounds interleaved so that changing load hits every tool alike. ---
  const issueRow = newRow('one issuance, existing account');
  for (let run = 1; run <= plan.issueRuns; run += 1) {
    for (const tool of working()) {
      await timed(cellOf(issueRow, tool.name), tool.name, `issuance ${run}/${plan.issueRuns}`, [[tool.issue(uniqueName(`issue${run}`))]], 1);
    }
  }

  // --- many due certificates: certman's one renew against each tool's fastest way. ---
  const dueRow = newRow(`${plan.due} certificates renewed`);
  const dueLanes = new Map<string, Command[][]>();
  await eachTool(`issuing ${plan.due} certificates`, async (tool) => {
    say(`${tool.name}: issuing ${plan.due} certificates to renew (untimed)`);
    dueLanes.set(tool.name, await tool.prepareRenewAll(plan.due));
    footnotes.push(`${plan.due} certificates, ${tool.name}: ${tool.renewAllHow(plan.due)}.`);
  }, dueRow);
  for (let run = 1; run <= plan.dueRuns; run += 1) {
    for (const tool of working()) {
      const laneSet = dueLanes.get(tool.name);
      if (laneSet !== undefined) await timed(cellOf(dueRow, tool.name), tool.name, `renew ${plan.due} due ${run}/${plan.dueRuns}`, laneSet, plan.due);
    }
  }

  // --- no-op renew over growing stores of copies of one real lineage. ---
  let previous: { size: number; row: Row } | undefined;
  for (const { size, runs } of plan.noop) {
    const row = newRow(`no-op renew, ${count(size)} lineages`);
    const laneSets = new Map<string, Command[][]>();
    await eachTool(`building a store of ${count(size)}`, async (tool) => {
      const cell = cellOf(row, tool.name);
      // A tool whose run would take longer than the cap runs over fewer lineages; the time is projected.
      const before = previous === undefined ? undefined : figures(previous.row.cells.get(tool.name));
      const projected = before === undefined || previous === undefined ? 0 : (before.ms * size) / previous.size;
      let used = size;
      if (projected > capMs && previous !== undefined) {
        used = Math.max(previous.size, Math.floor((size * capMs) / projected / 100) * 100);
        cell.cappedTo = used;
        cell.fullCount = size;
      }
      say(`${tool.name}: store of ${count(used)} copies`);
      const laneSet = await tool.noopRenew(used);
      laneSets.set(tool.name, laneSet);
      // The first run after the copies were written is not timed: caches (the page cache, certman's
      // stamps of the copied files) settle there. Its time is still worth a note.
      const first = await checkedRun(laneSet, 0);
      if (first.problem !== undefined) throw new Error(`the first no-op run ${first.problem}`);
      footnotes.push(`no-op over ${count(used)}, ${tool.name}: ${tool.noopHow()}; the untimed first run took ${formatMs(first.result.ms)}.`);
    }, row);
    for (let run = 1; run <= runs; run += 1) {
      for (const tool of working()) {
        const laneSet = laneSets.get(tool.name);
        if (laneSet !== undefined) await timed(cellOf(row, tool.name), tool.name, `no-op ${count(size)} ${run}/${runs}`, laneSet, 0);
      }
    }
    previous = { size, row };
  }
} finally {
  await pebble.stop();
}

// --- the report ---
const commit = (() => {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    return dirty === '' ? head : `${head} + uncommitted changes`;
  } catch {
    return 'unknown';
  }
})();
const reproduce = ['bench/compare', ...process.argv.slice(2)].join(' ');
const minutes = ((Date.now() - started) / 60_000).toFixed(1);
const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
const out = [
  `Each cell: median wall time · median peak RSS (runs). Ratios: the other tool's figures ÷ certman's, time · RSS (above 1: certman is faster / smaller).`,
  '',
  table(rows, wanted),
  '',
  ...tools.map((t) => `- ${t.versionText()}`),
  `- ${availableParallelism()} × ${cpu}; load average ${loadAtStart.toFixed(2)} at the start, ${(loadavg()[0] ?? 0).toFixed(2)} at the end; ${minutes} min in all; certman ${commit}.`,
  `- One Pebble (harness, PEBBLE_VA_NOSLEEP=1, no nonce rejection, PEBBLE_AUTHZREUSE=0), fresh names for every issuance; HTTP-01 through each tool's own server on Pebble's validation port; accounts made beforehand; certman with its default self-check (it fetches its own token the way Pebble will before asking for validation).`,
  `- Peak RSS: ${rssMethod()}; several processes at once: the largest one.`,
  ...footnotes.map((f) => `- ${f}`),
  ...notes.map((n) => `- ${n}`),
  `- Reproduce: \`${reproduce}\``,
];
console.log(out.join('\n'));

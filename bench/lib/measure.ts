// Timing and peak memory of child processes, shared by the benchmarks.
//
// Wall time is taken here (hrtime from spawn to exit). Node cannot read a child's rusage, so the peak
// RSS comes from a small wrapper that waits for the child with wait4() and reports ru_maxrss:
// GNU time (`/usr/bin/time -f %M`) when installed, else a few lines of python3 (os.wait4). Both count
// the child and whatever it waited for; the wrapper itself is not counted.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';

import { which } from '../../test/harness/index.js';
import { track } from '../../test/harness/proc.js';

export interface Command {
  cmd: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Kill it (SIGKILL) after this long; the sample then has code 137. Default 30 minutes. */
  timeoutMs?: number;
}

export interface Sample {
  ms: number;
  /** Peak resident set size in KiB, when it was measured. */
  rssKb?: number;
  /** User + system CPU time in ms, when it was measured (with the RSS): on a loaded machine, steadier than wall time. */
  cpuMs?: number;
  /** Exit code, 128 + signal number when killed. */
  code: number;
  /** The last few KiB of stdout and stderr, for error messages. */
  output: string;
}

interface RssProbe {
  /** How the figure is obtained, for the report. */
  method: string;
  argv(command: Command, outFile: string): string[];
  /** Peak RSS in KiB, CPU time, and the wall time when the wrapper measured it itself. */
  parse(text: string): { rssKb: number; cpuMs?: number; ms?: number };
}

const gnuTime: RssProbe = {
  method: 'GNU time (`/usr/bin/time -f %M`, wait4 ru_maxrss)',
  argv: (c, out) => ['/usr/bin/time', '-f', '%M %U %S', '-o', out, c.cmd, ...c.args],
  // "Command exited with non-zero status N" may come first; the figures are the last line.
  parse: (text) => {
    const [kb, user, system] = (text.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
    return { rssKb: Number(kb), cpuMs: ((user ?? Number.NaN) + (system ?? Number.NaN)) * 1000 };
  },
};

// python3 starts in ~20 ms, before the child: it times the child itself so that cost is not counted.
const WAIT4 = [
  'import os, sys, time',
  't = time.perf_counter()',
  'pid = os.fork()',
  'if pid == 0:',
  '    try: os.execvp(sys.argv[2], sys.argv[2:])',
  '    finally: os._exit(127)',
  '_, status, ru = os.wait4(pid, 0)',
  'ms = (time.perf_counter() - t) * 1000',
  'open(sys.argv[1], "w").write("%d %.3f %.3f\\n" % (ru.ru_maxrss, ms, (ru.ru_utime + ru.ru_stime) * 1000))',
  'code = os.waitstatus_to_exitcode(status)',
  'sys.exit(code if code >= 0 else 128 - code)',
].join('\n');

const pythonWait4: RssProbe = {
  method: 'python3 os.wait4() ru_maxrss (GNU time is not installed)',
  argv: (c, out) => ['python3', '-c', WAIT4, out, c.cmd, ...c.args],
  parse: (text) => {
    const [kb, ms, cpu] = text.trim().split(' ');
    return { rssKb: Number(kb), ms: Number(ms), cpuMs: Number(cpu) };
  },
};

function findProbe(): RssProbe | undefined {
  const time = spawnSync('/usr/bin/time', ['--version'], { encoding: 'utf8' });
  if (time.status === 0 && /GNU/.test(`${time.stdout}${time.stderr}`)) return gnuTime;
  if (which('python3') !== undefined) return pythonWait4;
  return undefined;
}

let probe: RssProbe | undefined | null = null;
function rssProbe(): RssProbe | undefined {
  if (probe === null) probe = findProbe();
  return probe;
}

/** How peak RSS is measured here, or why it is not. */
export function rssMethod(): string {
  return rssProbe()?.method ?? 'not measured: neither GNU time (apt-get install time) nor python3 is installed';
}

const KEEP_OUTPUT = 8192;
let outFiles = 0;

/** Runs one command to its end; `withRss` wraps it to read its peak RSS. Never rejects on a failing command. */
export function measure(command: Command, withRss = true): Promise<Sample> {
  const wrapper = withRss ? rssProbe() : undefined;
  const outFile = join(tmpdir(), `certman-bench-rss-${process.pid}-${outFiles++}`);
  const argv = wrapper === undefined ? [command.cmd, ...command.args] : wrapper.argv(command, outFile);
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn(argv[0] as string, argv.slice(1), {
      env: command.env ?? process.env,
      cwd: command.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track(child);
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-KEEP_OUTPUT);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), command.timeoutMs ?? 30 * 60_000);
    const finish = (code: number): void => {
      clearTimeout(timer);
      let ms = Number(process.hrtime.bigint() - started) / 1e6;
      let rssKb: number | undefined;
      let cpuMs: number | undefined;
      if (wrapper !== undefined) {
        try {
          const parsed = wrapper.parse(readFileSync(outFile, 'utf8'));
          if (Number.isFinite(parsed.rssKb)) rssKb = parsed.rssKb;
          if (parsed.cpuMs !== undefined && Number.isFinite(parsed.cpuMs)) cpuMs = parsed.cpuMs;
          if (parsed.ms !== undefined && Number.isFinite(parsed.ms)) ms = parsed.ms;
        } catch {
          // killed before the wrapper wrote anything
        }
        rmSync(outFile, { force: true });
      }
      resolve({ ms, rssKb, ...(cpuMs === undefined ? {} : { cpuMs }), code, output });
    };
    child.once('error', (err) => {
      output += String(err.message);
      finish(127);
    });
    child.once('close', (code, signal) => finish(code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0))));
  });
}

/** What one run of a scenario produced: wall time and the largest peak RSS among its processes. */
export interface RunResult {
  ms: number;
  rssKb?: number;
  /** The first failing process, if any. */
  failure?: { command: Command; sample: Sample };
}

/**
 * Runs each lane's commands one after another, all lanes at once; the wall time covers them all.
 * Only the first command of each lane runs under the RSS wrapper: they all do the same work, and
 * thousands of wrapper start-ups would otherwise be timed too.
 */
export async function runLanes(lanes: Command[][]): Promise<RunResult> {
  const started = process.hrtime.bigint();
  let rssKb: number | undefined;
  let failure: RunResult['failure'];
  let single: Sample | undefined;
  await Promise.all(
    lanes.map(async (lane) => {
      for (const [i, command] of lane.entries()) {
        const sample = await measure(command, i === 0);
        if (lanes.length === 1 && lane.length === 1) single = sample;
        if (sample.rssKb !== undefined) rssKb = Math.max(rssKb ?? 0, sample.rssKb);
        if (sample.code !== 0) {
          failure ??= { command, sample };
          return;
        }
      }
    }),
  );
  let ms = Number(process.hrtime.bigint() - started) / 1e6;
  // A single process: its own time (the python3 wrapper's start-up is not part of it).
  if (single !== undefined) ms = single.ms;
  return { ms, rssKb, failure };
}

/** The median (the mean of the two middle values for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  if (sorted.length % 2 === 1) return sorted[Math.floor(mid)] as number;
  return sorted.length === 0 ? Number.NaN : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

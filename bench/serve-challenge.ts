// serve-challenge against nginx serving the same token as a static file, side by side in one run:
// requests/s and latency percentiles over keep-alive connections with wrk, then the memory (RSS) of
// serve-challenge with 100,000 pending tokens in the store. Goals (printed, not asserted):
// ≥ 0.5× nginx's requests/s, p99 < 5 ms.
//
//   npm run build && node --import tsx bench/serve-challenge.ts
//   BENCH_DURATION=10 BENCH_CONNECTIONS=50 BENCH_THREADS=1 BENCH_TOKENS=100000 BENCH_ROUNDS=2
//
// Needs wrk and nginx (Debian: wrk, nginx-light); installed with apt-get when missing and running as root.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { challengesDir, encodeTokenEntry, FsTokenStore } from '../src/store/fs/tokens.js';
import { freePorts, startNginx, tempDir, which } from '../test/harness/index.js';
import { processMemory } from '../test/harness/memory.js';
import { track } from '../test/harness/proc.js';

const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const threads = Number(process.env.BENCH_THREADS ?? 1);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const tokenCount = Number(process.env.BENCH_TOKENS ?? 100_000);
const bin = fileURLToPath(new URL('../bin/certman', import.meta.url));
const dist = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const THUMB = 'Zm9vYmFyYmF6cXV4cXV1eGZvb2JhcmJhenF1eHF1dXg';
const CHALLENGE = '/.well-known/acme-challenge/';

function need(tool: string, pkg: string): string {
  const found = which(tool);
  if (found !== undefined) return found;
  if (process.getuid?.() === 0) {
    console.log(`installing ${pkg} …`);
    const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    const now = which(tool);
    if (r.status === 0 && now !== undefined) return now;
  }
  console.error(`${tool} is missing: sudo apt-get install -y ${pkg}`);
  process.exit(1);
}

interface WrkResult {
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  errors: string;
}

function toMs(value: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(value);
  if (m === null) return Number.NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

function wrk(wrkBin: string, url: string, seconds: number): WrkResult {
  const out = execFileSync(wrkBin, [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--latency', url], { encoding: 'utf8' });
  const pct = (p: string) => toMs(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out)?.[1] ?? '');
  const errors = [/Non-2xx or 3xx responses: \d+/.exec(out)?.[0], /Socket errors: .*/.exec(out)?.[0]].filter(Boolean).join('; ');
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN), p50: pct('50'), p90: pct('90'), p99: pct('99'), errors };
}

interface Serve {
  child: ChildProcess;
  stop(): Promise<number | null>;
}

async function startServe(configDir: string, port: number): Promise<Serve> {
  const child = spawn(process.execPath, [bin, 'serve-challenge', '--port', String(port), '--address', '127.0.0.1'], {
    env: { ...process.env, CERTMAN_CONFIG_DIR: configDir, NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  track(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 10_000;
  while (!stderr.includes('listening on')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`serve-challenge did not start:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    child,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

function fetchText(url: string, agent?: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: agent ?? false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A store with `count` pending tokens, built once and cached in $TMPDIR (no fsync per file: test data). */
async function bulkStore(count: number): Promise<{ dir: string; tokens: string[] }> {
  const dir = join(tmpdir(), `certman-bench-tokens-${count}`);
  const tokens = Array.from({ length: count }, (_, i) => `bench_${i.toString(36).padStart(6, '0')}`);
  const folder = challengesDir(dir);
  const present = existsSync(folder) ? (await readdir(folder)).length : 0;
  if (present !== count) {
    console.log(`writing ${count} pending tokens to ${folder} (once; cached for later runs) …`);
    await mkdir(folder, { recursive: true, mode: 0o755 });
    const expiresAt = Date.now() + 10 * 365 * 86_400_000;
    for (let i = 0; i < count; i += 1000) {
      await Promise.all(
        tokens.slice(i, i + 1000).map((token) =>
          writeFile(join(folder, `${token}.json`), encodeTokenEntry({ token, keyAuthorization: `${token}.${THUMB}`, domain: `${token.replace(/_/g, '-')}.bench.test`, expiresAt }), { mode: 0o644 }),
        ),
      );
    }
  }
  return { dir, tokens };
}

async function main(): Promise<void> {
  const wrkBin = need('wrk', 'wrk');
  need('nginx', 'nginx-light');
  if (!existsSync(dist)) {
    console.error('dist/ is missing: run npm run build first');
    process.exit(1);
  }
  const [nginxPort, servePort, memoryPort] = await freePorts(3);
  if (nginxPort === undefined || servePort === undefined || memoryPort === undefined) throw new Error('no free ports');

  // One pending token, served by both.
  const token = 'LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0';
  const keyAuthorization = `${token}.${THUMB}`;
  const configDir = await tempDir('bench-serve');
  await new FsTokenStore(configDir).put(token, keyAuthorization, 'bench.test', 3600_000);
  const webroot = await tempDir('bench-webroot');
  await mkdir(join(webroot, '.well-known/acme-challenge'), { recursive: true });
  await writeFile(join(webroot, '.well-known/acme-challenge', token), keyAuthorization);

  const nginx = await startNginx({ port: nginxPort, root: webroot });
  const serve = await startServe(configDir, servePort);
  const targets = [
    { label: 'nginx (1 worker, static file)', url: `${nginx.url}${CHALLENGE}${token}`, results: [] as WrkResult[] },
    { label: 'certman serve-challenge', url: `http://127.0.0.1:${servePort}${CHALLENGE}${token}`, results: [] as WrkResult[] },
  ];
  try {
    for (const t of targets) {
      const check = await fetchText(t.url);
      if (check.status !== 200 || check.body !== keyAuthorization) throw new Error(`${t.label} answered ${check.status} ${JSON.stringify(check.body.slice(0, 80))}`);
      wrk(wrkBin, t.url, 2); // warm-up (JIT, caches)
    }
    console.log(`wrk -t${threads} -c${connections} -d${duration}s --latency, keep-alive, one pending token; ${availableParallelism()} CPUs; ${rounds} alternating rounds`);
    for (let round = 0; round < rounds; round++) {
      for (const t of targets) t.results.push(wrk(wrkBin, t.url, duration));
    }
  } finally {
    await serve.stop();
    await nginx.stop();
  }

  const best = (results: WrkResult[]): WrkResult => results.reduce((a, b) => (b.rps > a.rps ? b : a));
  const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '?');
  console.log('');
  console.log(`${'server'.padEnd(32)} ${'requests/s'.padStart(11)} ${'p50 ms'.padStart(8)} ${'p90 ms'.padStart(8)} ${'p99 ms'.padStart(8)}   (best of ${rounds} rounds; all rounds: requests/s)`);
  for (const t of targets) {
    const b = best(t.results);
    console.log(
      `${t.label.padEnd(32)} ${fmt(b.rps, 0).padStart(11)} ${fmt(b.p50).padStart(8)} ${fmt(b.p90).padStart(8)} ${fmt(b.p99).padStart(8)}   ${t.results.map((r) => fmt(r.rps, 0)).join(', ')}${b.errors === '' ? '' : `  ! ${b.errors}`}`,
    );
  }
  const [ng, sc] = targets.map((t) => best(t.results));
  if (ng !== undefined && sc !== undefined) {
    const ratio = sc.rps / ng.rps;
    console.log(`serve-challenge / nginx: ${fmt(ratio)}× requests/s (goal ≥ 0.5×: ${ratio >= 0.5 ? 'met' : 'NOT met'}); p99 ${fmt(sc.p99)} ms (goal < 5 ms: ${sc.p99 < 5 ? 'met' : 'NOT met'})`);
  }

  // Memory with a large store: the server reads tokens on demand, so the store size should not show.
  const bulk = await bulkStore(tokenCount);
  const big = await startServe(bulk.dir, memoryPort);
  try {
    await new Promise((r) => setTimeout(r, 500));
    const idle = processMemory(big.child.pid ?? 0);
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    const started = Date.now();
    let ok = 0;
    for (let i = 0; i < bulk.tokens.length; i += 500) {
      const answers = await Promise.all(bulk.tokens.slice(i, i + 500).map((t) => fetchText(`http://127.0.0.1:${memoryPort}${CHALLENGE}${t}`, agent)));
      ok += answers.filter((a) => a.status === 200).length;
    }
    agent.destroy();
    const seconds = (Date.now() - started) / 1000;
    const busy = processMemory(big.child.pid ?? 0);
    console.log('');
    console.log(`memory with ${tokenCount} pending tokens in the store (${bulk.dir}):`);
    console.log(`  RSS after start ${fmt(idle.rssKb / 1024, 1)} MB; after answering every token once ${fmt(busy.rssKb / 1024, 1)} MB (peak ${fmt(busy.peakKb / 1024, 1)} MB)`);
    console.log(`  ${ok}/${tokenCount} answered 200 in ${fmt(seconds, 1)} s (${fmt(tokenCount / seconds, 0)} distinct tokens/s, each a store read)`);
  } finally {
    await big.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});

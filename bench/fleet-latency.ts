// Fleet mode latencies over one local Redis (goals from issue 10, printed, not asserted):
// - a token's publication (TokenStore.put resolved) to every `serve-challenge` answering it (goal ≤ 100 ms);
// - a renewal saved on one node (save() resolved) to the new files on another under `certman sync --watch`
//   (live/<name>/cert.pem holding the new version; goal ≤ 1 s).
//
//   npm run build && node --import tsx bench/fleet-latency.ts
//   BENCH_ROUNDS=50 BENCH_RESPONDERS=3
//
// Needs redis-server (Debian: redis-server). No CA is involved: the saves are made through the store's own API
// with PEM-shaped texts, as a renewal's save would be.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../src/store/index.js';
import { cliEnv, freePorts, startRedis, tempDir } from '../test/harness/index.js';
import { sleep, track } from '../test/harness/proc.js';
import { newCert, pems, saveLeased } from '../test/harness/store-fixtures.js';
import { median } from './lib/measure.js';
import { formatMs } from './lib/report.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 50);
const responders = Number(process.env.BENCH_RESPONDERS ?? 3);
const bin = fileURLToPath(new URL('../bin/certman', import.meta.url));
const THUMB = 'Zm9vYmFyYmF6cXV4cXV1eGZvb2JhcmJhenF1eHF1dXg';

/** Starts a long-running certman command; resolves once its stderr matches `ready`. */
async function daemon(args: string[], env: Record<string, string>, ready: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, [bin, ...args], { env: cliEnv(env), stdio: ['ignore', 'ignore', 'pipe'] });
  track(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const deadline = Date.now() + 20_000;
  while (!ready.test(stderr)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`certman ${args[0] ?? ''} did not start:\n${stderr}`);
    await sleep(20);
  }
  return child;
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });
function status(port: number, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `/.well-known/acme-challenge/${token}`, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Milliseconds from now until `probe` holds, asking as fast as it answers. */
async function until(probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<number> {
  const started = performance.now();
  while (!(await probe())) {
    if (performance.now() - started > timeoutMs) throw new Error('timed out');
    await sleep(1);
  }
  return performance.now() - started;
}

function line(label: string, samples: number[], goalMs: number): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const p90 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.9))] ?? Number.NaN;
  const m = median(samples);
  return `${label.padEnd(52)} median ${formatMs(m).padStart(8)}  p90 ${formatMs(p90).padStart(8)}  (${samples.length} rounds; goal ≤ ${formatMs(goalMs)}: ${m <= goalMs ? 'met' : 'missed'})`;
}

async function main(): Promise<void> {
  const redis = await startRedis();
  const key = randomBytes(32);
  const prefix = 'bench:';
  const children: ChildProcess[] = [];
  try {
    const base = { CERTMAN_STORE: redis.url, CERTMAN_STORE_KEY: key.toString('hex'), CERTMAN_STORE_PREFIX: prefix };
    const store = await openStore(redis.url, { redisKey: key, redisPrefix: prefix });

    // Tokens: every responder polled until it answers.
    const ports = await freePorts(responders);
    for (const port of ports) {
      const dir = await tempDir('bench-responder');
      const args = ['serve-challenge', '--port', String(port), '--address', '127.0.0.1'];
      children.push(await daemon(args, { ...base, CERTMAN_CONFIG_DIR: dir }, /listening on/));
    }
    const tokenMs: number[] = [];
    for (let i = 0; i < rounds; i += 1) {
      const token = `bench-${i}-${randomBytes(6).toString('hex')}`;
      await store.tokens.put(token, `${token}.${THUMB}`, 'bench.example', 60_000);
      const each = await Promise.all(ports.map((port) => until(async () => (await status(port, token)) === 200)));
      tokenMs.push(Math.max(...each));
    }

    // Renewals: a save on "node A" (this process) to the files of node C under sync --watch.
    const nodeC = await tempDir('bench-sync');
    const name = 'fleet.bench.test';
    await saveLeased(store, newCert(name, { method: { kind: 'responder' }, serial: '01' }), pems('v0'));
    children.push(await daemon(['sync', '--watch'], { ...base, CERTMAN_CONFIG_DIR: nodeC }, /sync watching/));
    const cert = join(nodeC, 'live', name, 'cert.pem');
    const holds = (tag: string) => async () => (await readFile(cert, 'utf8').catch(() => '')).includes(`cert ${tag}\n`);
    await until(holds('v0'));
    const syncMs: number[] = [];
    for (let i = 1; i <= rounds; i += 1) {
      await saveLeased(store, newCert(name, { method: { kind: 'responder' }, serial: (i + 1).toString(16).padStart(2, '0') }), pems(`v${i}`));
      syncMs.push(await until(holds(`v${i}`)));
    }
    await store.close?.();

    console.log(`fleet latency over one local Redis (${responders} serve-challenge, 1 sync --watch)`);
    console.log(line(`token published → answered by all ${responders} responders`, tokenMs, 100));
    console.log(line('renewal saved → new files on another node (sync --watch)', syncMs, 1000));
  } finally {
    for (const child of children) child.kill('SIGTERM');
    agent.destroy();
    await redis.stop();
  }
}

await main();

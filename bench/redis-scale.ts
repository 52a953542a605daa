// A fleet's Redis store at scale: Redis memory per 10,000 certificates, and a no-op `certman renew` from one
// node over 10,000 and 100,000 certificates (goals: ≤ 1 s and ≤ 5 s), wall time and peak RSS.
//
//   node --import tsx bench/redis-scale.ts [count ...]        (default 10000 100000; BENCH_RUNS=3)
//
// Each count gets a fresh private redis-server (test/harness/redis.ts), filled through certman's own store
// (openStore + save under each lineage's lease, many at once) with real certificates of the usual size: an
// ECDSA P-256 certificate, a chain of one more, the sealed key. Memory is Redis's own `used_memory` (INFO
// memory) after the fill minus before it. The renewing node has an empty config dir of its own. CPU time (user +
// system) is printed beside wall time: on a loaded machine it is the steadier figure.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { openStore } from '../src/store/index.js';
import { cliEnv, startRedis, tempDir, type RedisServer } from '../test/harness/index.js';
import { saveLeased } from '../test/harness/store-fixtures.js';
import { benchLineages, type LineageMaker } from './lib/lineages.js';
import { measure, median, rssMethod, type Sample } from './lib/measure.js';
import { count as formatCount, formatMs } from './lib/report.js';

const counts = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [10_000, 100_000];
const runs = Number(process.env.BENCH_RUNS ?? 3);
const bin = fileURLToPath(new URL('../bin/certman', import.meta.url));
/** Saves in flight at once: node-redis pipelines them over the one connection. */
const FILL_CONCURRENCY = 256;

async function usedMemory(redis: RedisServer): Promise<number> {
  const client = createClient({ url: redis.url });
  await client.connect();
  try {
    const info = await client.info('memory');
    return Number(/^used_memory:(\d+)/m.exec(info)?.[1]);
  } finally {
    await client.close();
  }
}

async function fill(redis: RedisServer, key: Buffer, n: number, lineage: LineageMaker): Promise<void> {
  const store = await openStore(redis.url, { redisKey: key });
  const started = Date.now();
  try {
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < n; i = next++) {
        const { meta, files } = await lineage(i);
        await saveLeased(store, meta, files);
        if (i % 10_000 === 9_999) process.stderr.write(`filled ${formatCount(i + 1)}/${formatCount(n)} (${Math.round((Date.now() - started) / 1000)} s)\n`);
      }
    };
    await Promise.all(Array.from({ length: FILL_CONCURRENCY }, worker));
  } finally {
    await store.close?.();
  }
}

const lineage = await benchLineages({ pool: 256 });
console.log(`Redis store at scale: no-op renew from one node, median of ${runs} runs (peak RSS: ${rssMethod()})`);
for (const n of counts) {
  const redis = await startRedis();
  try {
    const key = randomBytes(32);
    const before = await usedMemory(redis);
    await fill(redis, key, n, lineage);
    const perTenThousand = ((await usedMemory(redis)) - before) * (10_000 / n);
    const node = await tempDir('bench-node');
    const env = cliEnv({ CERTMAN_STORE: redis.url, CERTMAN_STORE_KEY: key.toString('hex') });
    const samples: Sample[] = [];
    for (let run = 0; run < runs; run += 1) {
      samples.push(await measure({ cmd: process.execPath, args: [bin, '--config-dir', node, 'renew', '-q', '--no-random-sleep'], env }));
    }
    const failed = samples.find((s) => s.code !== 0);
    if (failed !== undefined) throw new Error(`certman renew exited ${failed.code}:\n${failed.output}`);
    const rss = samples.flatMap((s) => (s.rssKb === undefined ? [] : [s.rssKb / 1024]));
    const cpu = samples.flatMap((s) => (s.cpuMs === undefined ? [] : [s.cpuMs]));
    console.log(
      `${formatCount(n).padStart(7)} certificates: Redis ${(perTenThousand / 1024 / 1024).toFixed(1)} MiB per 10,000; ` +
        `no-op renew ${formatMs(median(samples.map((s) => s.ms)))} wall${cpu.length === 0 ? '' : ` (${formatMs(median(cpu))} CPU)`}, ` +
        `${rss.length === 0 ? 'RSS n/a' : `${median(rss).toFixed(0)} MiB peak RSS`}`,
    );
  } finally {
    await redis.stop();
  }
}

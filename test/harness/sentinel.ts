// A Redis Sentinel topology on loopback for one test file: one master and one replica (redis.ts), and three
// redis-sentinel processes watching them (quick to act: the master is down after 1 s without an answer), each
// with its sentinel.conf in a temp dir of its own (Sentinel rewrites it). Ready once every sentinel agrees on the
// master, sees the replica and knows the two other sentinels; killMaster() SIGKILLs the master and waits until the
// sentinels have promoted the replica.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { createClient } from 'redis';

import { freePorts } from './ports.js';
import { sleep, spawnLogged, tail, which, type Spawned } from './proc.js';
import { startRedis, type RedisServer } from './redis.js';
import { removeTempDir, tempDir } from './tmp.js';

export interface SentinelTopology {
  masterName: string;
  /** redis+sentinel://127.0.0.1:<port>,…/<master name> */
  url: string;
  /** The servers as started: `master` is the one killMaster() kills, `replica` the one it promotes. */
  master: RedisServer;
  replica: RedisServer;
  /** Waits until the replica has received every write the master has (their replication offsets). */
  waitForReplica(): Promise<void>;
  /** SIGKILLs the master, then waits until every sentinel names the replica as master and it acts as one. */
  killMaster(): Promise<void>;
  /** Stops every process and removes every temp dir. Idempotent. */
  stop(): Promise<void>;
}

const MASTER_NAME = 'certman-test';
const WAIT_MS = 30_000;

/** One command to the server or sentinel at `port`, on a connection of its own. */
async function ask(port: number, args: string[], password?: string): Promise<unknown> {
  const client = createClient({
    socket: { host: '127.0.0.1', port, reconnectStrategy: false, connectTimeout: 2000 },
    RESP: 2,
    ...(password === undefined ? {} : { password }),
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await client.sendCommand(args);
  } finally {
    client.destroy();
  }
}

/** A reply of alternating names and values (RESP2), as an object. */
function fields(reply: unknown): Record<string, string> {
  const list = Array.isArray(reply) ? (reply as unknown[]).map(String) : [];
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i] as string] = list[i + 1] as string;
  return out;
}

/** INFO replication of the server at `port`, as an object. */
async function replicationInfo(port: number): Promise<Record<string, string>> {
  const text = String(await ask(port, ['INFO', 'replication']));
  return Object.fromEntries(text.split('\r\n').filter((line) => line.includes(':')).map((line) => line.split(':', 2) as [string, string]));
}

/** Polls `check` (errors count as "not yet") until it holds; throws with `what` and the last state after WAIT_MS. */
async function waitFor(what: string, check: () => Promise<boolean>, describe: () => string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`sentinel harness: ${what} did not happen within ${WAIT_MS} ms:\n${describe()}`);
    await sleep(100);
  }
}

function sentinelConf(port: number, dir: string, masterPort: number, password: string | undefined): string {
  return [
    // The sentinels' own password, for clients and for each other.
    ...(password === undefined ? [] : [`requirepass ${password}`, `sentinel sentinel-pass ${password}`]),
    `port ${port}`,
    'bind 127.0.0.1',
    'protected-mode no',
    'daemonize no',
    `dir ${dir}`,
    `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
    `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
    `sentinel failover-timeout ${MASTER_NAME} 5000`,
    `sentinel parallel-syncs ${MASTER_NAME} 1`,
    '',
  ].join('\n');
}

export interface SentinelOptions {
  /** More redis-server arguments for the master and the replica (their ACL users, say). */
  serverArgs?: string[];
  /** A password the sentinels require (of clients and of each other). */
  sentinelPassword?: string;
}

export async function startSentinels(options: SentinelOptions = {}): Promise<SentinelTopology> {
  const serverArgs = options.serverArgs ?? [];
  const password = options.sentinelPassword;
  const binary = which('redis-sentinel');
  if (binary === undefined) throw new Error('redis-sentinel is not installed: apt-get install redis-sentinel (or run: bash scripts/ensure-deps.sh redis-sentinel)');
  const master = await startRedis({ args: serverArgs });
  const started: { proc: Spawned; dir: string }[] = [];
  let replica: RedisServer | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await Promise.all(started.map(async ({ proc, dir }) => proc.stop(5000).then(() => removeTempDir(dir))));
      await Promise.all([master.stop(), replica?.stop()]);
    })();
    return stopping;
  };
  const logs = (): string => started.map(({ proc }) => tail(proc.log(), 15)).join('\n---\n');
  try {
    replica = await startRedis({ args: [...serverArgs, '--replicaof', '127.0.0.1', String(master.port)] });
    const ports = await freePorts(3);
    for (const port of ports) {
      const dir = await tempDir('sentinel');
      const conf = join(dir, 'sentinel.conf');
      await writeFile(conf, sentinelConf(port, dir, master.port, password));
      started.push({ proc: spawnLogged(binary, [conf], join(dir, 'sentinel.log'), { cwd: dir, detached: true }), dir });
    }
    const agreed = async (): Promise<boolean> => {
      for (const port of ports) {
        const state = fields(await ask(port, ['SENTINEL', 'MASTER', MASTER_NAME], password));
        if (state.port !== String(master.port) || state.flags !== 'master' || state['num-slaves'] !== '1' || state['num-other-sentinels'] !== '2') return false;
      }
      return true;
    };
    await waitFor('the sentinels agreeing on the master, its replica and each other', agreed, logs);
    const promoted = replica;
    return {
      masterName: MASTER_NAME,
      url: `redis+sentinel://${ports.map((port) => `127.0.0.1:${port}`).join(',')}/${MASTER_NAME}`,
      master,
      replica: promoted,
      async waitForReplica() {
        const target = Number((await replicationInfo(master.port)).master_repl_offset);
        await waitFor('the replica catching up', async () => Number((await replicationInfo(promoted.port)).slave_repl_offset) >= target, logs);
      },
      async killMaster() {
        process.kill(master.proc.pid, 'SIGKILL');
        await master.proc.exited;
        const failedOver = async (): Promise<boolean> => {
          for (const port of ports) {
            const [, addressPort] = (await ask(port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME], password)) as string[];
            if (addressPort !== String(promoted.port)) return false;
          }
          return (await replicationInfo(promoted.port)).role === 'master';
        };
        await waitFor('the failover to the replica', failedOver, logs);
        await master.stop();
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

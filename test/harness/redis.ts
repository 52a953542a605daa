// A private redis-server on 127.0.0.1:<free port> for one test file: no persistence (nothing is ever written
// to disk but its log), its own temp dir, ready once it answers PING, stopped with its dir removed.
import { createConnection } from 'node:net';
import { join } from 'node:path';

import { createClient } from 'redis';

import { freePort } from './ports.js';
import { sleep, spawnLogged, tail, which, type Spawned } from './proc.js';
import { removeTempDir, tempDir } from './tmp.js';

export interface RedisServer {
  port: number;
  /** redis://127.0.0.1:<port> (the default user, no password). */
  url: string;
  proc: Spawned;
  /** Stops it (SIGTERM, then SIGKILL) and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Resolves true when the server at `port` answers PING with PONG within `timeoutMs`. */
function answersPing(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

export async function startRedis(options: { startTimeoutMs?: number } = {}): Promise<RedisServer> {
  const binary = which('redis-server');
  if (binary === undefined) {
    throw new Error('redis-server is not installed: apt-get install redis-server (or run: bash scripts/ensure-deps.sh redis)');
  }
  const dir = await tempDir('redis');
  const port = await freePort();
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no'];
  const proc = spawnLogged(binary, args, join(dir, 'redis.log'), { cwd: dir, detached: true });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= proc.stop(5000).then(() => removeTempDir(dir));
    return stopping;
  };
  const timeoutMs = options.startTimeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  while (!(await answersPing(port, 1000))) {
    if (!proc.running() || Date.now() > deadline) {
      const log = tail(proc.log());
      await stop();
      throw new Error(`redis-server on port ${port} ${proc.running() ? `did not answer PING within ${timeoutMs} ms` : 'exited during startup'}:\n${log}`);
    }
    await sleep(50);
  }
  return { port, url: `redis://127.0.0.1:${port}`, proc, stop };
}

const newClient = (url: string) => createClient({ url });
export type AdminClient = ReturnType<typeof newClient>;

/** A plain connection to `server` for tests that read or change keys behind certman's back; close() it afterwards. */
export async function adminClient(server: RedisServer): Promise<AdminClient> {
  const client = newClient(server.url);
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

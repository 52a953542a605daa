// A private redis-server on 127.0.0.1:<free port> for one test file: no persistence (nothing is ever written
// to disk but its log), its own temp dir, ready once it answers PING, stopped with its dir removed.
import { createConnection } from 'node:net';
import { join } from 'node:path';

import { freePort } from './ports.js';
import { sleep, spawnLogged, tail, which, type Spawned } from './proc.js';
import { removeTempDir, tempDir } from './tmp.js';

export interface RedisServer {
  port: number;
  /** redis://127.0.0.1:<port> (the default user, no password). */
  url: string;
  /** The running redis-server (a new one after restart()). */
  proc: Spawned;
  /** Stops it (SIGTERM, then SIGKILL) and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
  /**
   * Stops the server (SIGKILL: no goodbye to its clients), runs `whileDown`, then starts a new one on the same port
   * and dir. With `persistent`, what was written before is there again.
   */
  restart(whileDown?: () => Promise<void>): Promise<void>;
}

export interface RedisOptions {
  startTimeoutMs?: number;
  /** Every write appended and fsynced (AOF) so a restart() keeps the data, as a production Redis would. */
  persistent?: boolean;
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

async function spawnRedis(binary: string, dir: string, port: number, options: RedisOptions): Promise<Spawned> {
  const persistence = options.persistent === true ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', ...persistence, '--daemonize', 'no'];
  const proc = spawnLogged(binary, args, join(dir, 'redis.log'), { cwd: dir, detached: true });
  const timeoutMs = options.startTimeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  while (!(await answersPing(port, 1000))) {
    if (!proc.running() || Date.now() > deadline) {
      const log = tail(proc.log());
      await proc.stop(5000);
      throw new Error(`redis-server on port ${port} ${proc.running() ? `did not answer PING within ${timeoutMs} ms` : 'exited during startup'}:\n${log}`);
    }
    await sleep(50);
  }
  return proc;
}

export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const binary = which('redis-server');
  if (binary === undefined) {
    throw new Error('redis-server is not installed: apt-get install redis-server (or run: bash scripts/ensure-deps.sh redis)');
  }
  const dir = await tempDir('redis');
  const port = await freePort();
  let stopping: Promise<void> | undefined;
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    proc: await spawnRedis(binary, dir, port, options).catch(async (err: unknown) => {
      await removeTempDir(dir);
      throw err;
    }),
    stop: () => {
      stopping ??= server.proc.stop(5000).then(() => removeTempDir(dir));
      return stopping;
    },
    restart: async (whileDown) => {
      server.proc.child.kill('SIGKILL');
      await server.proc.stop(5000);
      await whileDown?.();
      server.proc = await spawnRedis(binary, dir, port, options);
    },
  };
  return server;
}

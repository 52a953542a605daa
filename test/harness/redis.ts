// A private redis-server on 127.0.0.1:<free port> for one test file: no persistence unless asked (nothing is
// written to disk but its log), its own temp dir, ready once it answers PING, stopped with its dir removed.
// Optionally TLS only (rediss://, a throwaway CA), on a given port, with more arguments (a replica), and
// restarted in place (killed, then started again on its port and dir).
import { readFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';

import { createClient } from 'redis';

import { makeListenerCert } from './listener-cert.js';
import { freePort } from './ports.js';
import { sleep, spawnLogged, tail, which, type Spawned } from './proc.js';
import { removeTempDir, tempDir } from './tmp.js';

export interface RedisOptions {
  startTimeoutMs?: number;
  /** The port to listen on (to restart a server where its clients expect it); default a free one. */
  port?: number;
  /** TLS only: the server listens with --tls-port, its certificate signed by a throwaway CA (caFile). */
  tls?: boolean;
  /** More redis-server arguments (e.g. --replicaof 127.0.0.1 <port>). */
  args?: string[];
  /** Every write appended and fsynced (AOF) so a restart() keeps the data, as a production Redis would. */
  persistent?: boolean;
}

export interface RedisServer {
  port: number;
  /** redis://127.0.0.1:<port>, or rediss:// with `tls` (the default user, no password). */
  url: string;
  /** With `tls`: the PEM file of the CA that signed the server's certificate. */
  caFile?: string;
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

/** Resolves true when the server at `port` answers PING with PONG within `timeoutMs` (over TLS given a CA). */
export function answersPing(port: number, timeoutMs: number, ca?: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const socket: Socket = ca === undefined ? createConnection({ host: '127.0.0.1', port }) : tlsConnect({ host: '127.0.0.1', port, ca });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once(ca === undefined ? 'connect' : 'secureConnect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const binary = which('redis-server');
  if (binary === undefined) {
    throw new Error('redis-server is not installed: apt-get install redis-server (or run: bash scripts/ensure-deps.sh redis)');
  }
  const dir = await tempDir('redis');
  const port = options.port ?? (await freePort());
  const cert = options.tls === true ? await makeListenerCert(dir) : undefined;
  const listen =
    cert === undefined
      ? ['--port', String(port)]
      : ['--port', '0', '--tls-port', String(port), '--tls-cert-file', cert.certFile, '--tls-key-file', cert.keyFile, '--tls-ca-cert-file', cert.caFile, '--tls-auth-clients', 'no'];
  const persistence = options.persistent === true ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const args = ['--bind', '127.0.0.1', ...listen, '--dir', dir, '--save', '', ...persistence, '--daemonize', 'no', ...(options.args ?? [])];
  const ca = cert === undefined ? undefined : readFileSync(cert.caFile);
  const spawnServer = async (): Promise<Spawned> => {
    const proc = spawnLogged(binary, args, join(dir, 'redis.log'), { cwd: dir, detached: true });
    const timeoutMs = options.startTimeoutMs ?? 15_000;
    const deadline = Date.now() + timeoutMs;
    while (!(await answersPing(port, 1000, ca))) {
      if (!proc.running() || Date.now() > deadline) {
        const log = tail(proc.log());
        await proc.stop(5000);
        throw new Error(`redis-server on port ${port} ${proc.running() ? `did not answer PING within ${timeoutMs} ms` : 'exited during startup'}:\n${log}`);
      }
      await sleep(50);
    }
    return proc;
  };
  let stopping: Promise<void> | undefined;
  const server: RedisServer = {
    port,
    url: `${cert === undefined ? 'redis' : 'rediss'}://127.0.0.1:${port}`,
    ...(cert === undefined ? {} : { caFile: cert.caFile }),
    proc: await spawnServer().catch(async (err: unknown) => {
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
      server.proc = await spawnServer();
    },
  };
  return server;
}

const newClient = (url: string) => createClient({ url });
export type AdminClient = ReturnType<typeof newClient>;

/** A plain connection to the Redis at `url` for tests that read or change keys behind certman's back; close() it afterwards. */
export async function adminClient(url: string): Promise<AdminClient> {
  const client = newClient(url);
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

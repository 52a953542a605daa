// A private redis-server on 127.0.0.1:<free port> for one test file: no persistence (nothing is ever written
// to disk but its log), its own temp dir, ready once it answers PING, stopped with its dir removed. Optionally
// TLS only (rediss://, a throwaway CA), on a given port (a restart), or with more arguments (a replica).
import { readFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';

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
}

export interface RedisServer {
  port: number;
  /** redis://127.0.0.1:<port>, or rediss:// with `tls` (the default user, no password). */
  url: string;
  /** With `tls`: the PEM file of the CA that signed the server's certificate. */
  caFile?: string;
  proc: Spawned;
  /** Stops it (SIGTERM, then SIGKILL) and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
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
  const args = ['--bind', '127.0.0.1', ...listen, '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', ...(options.args ?? [])];
  const proc = spawnLogged(binary, args, join(dir, 'redis.log'), { cwd: dir, detached: true });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= proc.stop(5000).then(() => removeTempDir(dir));
    return stopping;
  };
  const timeoutMs = options.startTimeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  const ca = cert === undefined ? undefined : readFileSync(cert.caFile);
  while (!(await answersPing(port, 1000, ca))) {
    if (!proc.running() || Date.now() > deadline) {
      const log = tail(proc.log());
      await stop();
      throw new Error(`redis-server on port ${port} ${proc.running() ? `did not answer PING within ${timeoutMs} ms` : 'exited during startup'}:\n${log}`);
    }
    await sleep(50);
  }
  return { port, url: `${cert === undefined ? 'redis' : 'rediss'}://127.0.0.1:${port}`, ...(cert === undefined ? {} : { caFile: cert.caFile }), proc, stop };
}

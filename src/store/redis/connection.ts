/**
 * The one connection a Redis store uses, to one server (redis://, rediss://) or to the master Redis Sentinel names
 * (redis+sentinel://), behind one small client type the store's modules share (RedisClient). node-redis is loaded
 * only when a Redis store is opened (it is not small).
 *
 * Every command gets an answer or a CertmanError within COMMAND_TIMEOUT_MS, whatever the network does: the
 * deadline covers the wait for a (re)connection, for a Sentinel failover, and for a reply to a command already
 * sent, so a silent partition (packets dropped, no reset) fails like a stopped server. node-redis reconnects on
 * its own afterwards, so the same store works again once Redis is back.
 */
import { readFile } from 'node:fs/promises';

import type { RedisClientType, RedisSentinelType } from 'redis';

import { CertmanError, UsageError, messageOf } from '../../errors.js';
import { parseRedisUrl, type RedisTarget } from './url.js';

/** How long any Redis command, or opening the connection, may take before it fails. */
export const COMMAND_TIMEOUT_MS = 5000;
/** Longest pause between two reconnection attempts. */
const MAX_RECONNECT_PAUSE_MS = 1000;

export interface RedisConnectOptions {
  /** PEM file of the CA certificate(s) a rediss:// server's certificate must chain to (instead of the system's). */
  caFile?: string;
  /** The sentinels' own password (their requirepass), for redis+sentinel://; the URL's credentials are the data's. */
  sentinelPassword?: string;
}

type CommandOptions = NonNullable<Parameters<RedisClientType['withCommandOptions']>[0]>;
/** The node-redis commands the store uses; a single client and a Sentinel client both have them. */
type Commands = Pick<RedisClientType, 'get' | 'set' | 'hmGet' | 'hSet' | 'sMembers' | 'mGet' | 'del' | 'pTTL' | 'hGet' | 'hGetAll' | 'hKeys'>;

/**
 * A connection of its own for pub/sub (a subscribed connection runs no other command), with the store connection's
 * URL and options, reconnecting and subscribing again on its own ('ready' after each reconnection).
 */
export interface RedisSubscriber {
  on(event: 'error' | 'ready', listener: (err?: unknown) => void): unknown;
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): unknown;
}

/** What differs between one server and a Sentinel-managed master. */
interface Backend {
  /** node-redis's client or sentinel: 'error' for every connection problem, 'ready' once connected again. */
  events: {
    on(event: 'error' | 'ready', listener: (err?: unknown) => void): unknown;
    off(event: 'error', listener: (err?: unknown) => void): unknown;
  };
  commands(options: CommandOptions): Commands;
  send(args: string[], options: CommandOptions): Promise<unknown>;
  connect(): Promise<unknown>;
  close(): Promise<void>;
  destroy(): Promise<void>;
  duplicate(): RedisSubscriber;
}

/** Pauses between reconnection attempts: quick at first, then once a second for as long as it takes. */
function reconnectPause(retries: number): number {
  return Math.min(50 * 2 ** retries, MAX_RECONNECT_PAUSE_MS);
}

/** Rejects with `signal`'s reason once it aborts, whatever `work` does meanwhile. */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * What a failed command met: an error Redis answered, no answer in time, a server TLS refused to trust, or another
 * failure to reach Redis.
 */
type FailureKind = 'reply' | 'timeout' | 'refusal' | 'connection';

/**
 * The store's Redis client: the node-redis commands the store needs, each bounded in time, with every failure
 * to reach Redis turned into one CertmanError that names the store (never its password). Errors Redis itself
 * answered (a script's error reply, NOSCRIPT, NOPERM) pass through unchanged.
 */
export class RedisClient {
  /** What went wrong with the connection since it was last ready, to say why a command got no answer. */
  private connectionError: unknown;
  /** Set once a command sent got no answer in time. */
  private unanswered = false;

  constructor(
    private readonly backend: Backend,
    /** The store's URL without credentials. */
    readonly location: string,
    private readonly classify: (err: unknown) => FailureKind,
  ) {
    backend.events.on('error', (err) => {
      if (classify(err) !== 'timeout') this.connectionError = err;
    });
    backend.events.on('ready', () => (this.connectionError = undefined));
  }

  readonly get = this.command('get');
  readonly set = this.command('set');
  readonly hmGet = this.command('hmGet');
  readonly hSet = this.command('hSet');
  readonly sMembers = this.command('sMembers');
  readonly mGet = this.command('mGet');
  readonly del = this.command('del');
  readonly pTTL = this.command('pTTL');
  readonly hGet = this.command('hGet');
  readonly hGetAll = this.command('hGetAll');
  readonly hKeys = this.command('hKeys');

  /** A raw command, always sent to the master (scripts write). */
  sendCommand(args: string[]): Promise<unknown> {
    return this.run((options) => this.backend.send(args, options));
  }

  /** A new connection for pub/sub (see RedisSubscriber); not connected yet. */
  duplicate(): RedisSubscriber {
    return this.backend.duplicate();
  }

  /** Waits for commands under way (bounded), then lets go of every connection. */
  async close(): Promise<void> {
    // A command that got no answer stays in node-redis's queue until its reply comes, which may be never.
    if (this.unanswered) return this.destroy();
    const deadline = AbortSignal.timeout(COMMAND_TIMEOUT_MS);
    await untilAborted(this.backend.close(), deadline).catch(() => this.backend.destroy());
  }

  /** Lets go of every connection at once; commands under way fail. */
  destroy(): Promise<void> {
    return this.backend.destroy().catch(() => undefined);
  }

  /** Connects, within the same deadline as a command; a CertmanError naming the store when it cannot. */
  async connect(): Promise<void> {
    const deadline = AbortSignal.timeout(COMMAND_TIMEOUT_MS);
    // Trying again cannot help a refusal (a wrong password, a certificate that does not verify): fail at once.
    const refused = new AbortController();
    const onError = (err: unknown): void => {
      const kind = this.classify(err);
      if (kind === 'reply' || kind === 'refusal') refused.abort(err);
    };
    this.backend.events.on('error', onError);
    try {
      await untilAborted(this.backend.connect(), AbortSignal.any([deadline, refused.signal]));
    } catch (err) {
      await this.destroy();
      throw this.failure(err, deadline.aborted ? 'timeout' : this.classify(err), (where) => `cannot connect to the Redis store at ${where}`);
    } finally {
      this.backend.events.off('error', onError);
    }
  }

  /** node-redis's command `name`, bounded in time. */
  private command<K extends keyof Commands>(name: K): Commands[K] {
    const send = (...args: unknown[]): Promise<unknown> =>
      this.run((options) => (this.backend.commands(options)[name] as (...args: unknown[]) => Promise<unknown>)(...args));
    return send as Commands[K];
  }

  private async run<T>(command: (options: CommandOptions) => Promise<T>): Promise<T> {
    // node-redis's timeout rejects a command still waiting to be sent, or (rejectInFlight) sent and waiting for
    // its reply, which it then discards in order should it come; the signal keeps a command that waited out a
    // Sentinel failover from being sent late; the race ends the waits node-redis does not bound itself.
    const deadline = AbortSignal.timeout(COMMAND_TIMEOUT_MS);
    try {
      return await untilAborted(command({ timeout: COMMAND_TIMEOUT_MS, abortSignal: deadline, rejectInFlight: true }), deadline);
    } catch (err) {
      const kind = deadline.aborted ? 'timeout' : this.classify(err);
      if (kind === 'reply') throw err;
      if (kind === 'timeout') this.unanswered = true;
      throw this.failure(err, kind, (where) => `the Redis store at ${where} is unreachable`);
    }
  }

  /** The CertmanError for a failure (of `kind`); a timeout says what the connection met meanwhile, if anything. */
  private failure(err: unknown, kind: FailureKind, what: (where: string) => string): CertmanError {
    if (err instanceof CertmanError) return err;
    const cause = kind === 'timeout' ? this.connectionError : err;
    const why = cause === undefined ? `no answer within ${COMMAND_TIMEOUT_MS / 1000} s` : messageOf(cause);
    return new CertmanError(`${what(this.location)}: ${why}`, {
      cause: err,
      hint: `check that Redis runs there and that this host reaches it (network, firewall, TLS, user and password); certman waits at most ${COMMAND_TIMEOUT_MS / 1000} s for Redis`,
    });
  }
}

/** Connects to the Redis store at `url`; a UsageError for a URL that is not one, a CertmanError when unreachable. */
export async function connectRedis(url: string, options: RedisConnectOptions = {}): Promise<RedisClient> {
  const target = parseRedisUrl(url);
  const ca = options.caFile === undefined ? undefined : await readCaFile(options.caFile);
  const redis = await import('redis');
  const backend = target.kind === 'server' ? serverBackend(redis, target, ca) : sentinelBackend(redis, target, options.sentinelPassword);
  const client = new RedisClient(backend, target.location, (err) => {
    if (err instanceof redis.ErrorReply) return 'reply';
    const timeouts = [redis.TimeoutError, redis.TimeoutReadError, redis.AbortError, redis.AbortReadError];
    if (timeouts.some((type) => err instanceof type)) return 'timeout';
    return networkOrRefusal(err);
  });
  await client.connect();
  return client;
}

/**
 * TLS verification failures carry OpenSSL's code; network failures carry a code and the failed system call, or
 * (a name with IPv4 and IPv6 addresses, all failing) come as one AggregateError of them.
 */
export function networkOrRefusal(err: unknown): 'refusal' | 'connection' {
  if (err instanceof AggregateError) return 'connection';
  const { code, syscall } = (err ?? {}) as { code?: unknown; syscall?: unknown };
  return typeof code === 'string' && syscall === undefined ? 'refusal' : 'connection';
}

type RedisModule = typeof import('redis');

function serverBackend(redis: RedisModule, target: Extract<RedisTarget, { kind: 'server' }>, ca: Buffer | undefined): Backend {
  const socket = { connectTimeout: COMMAND_TIMEOUT_MS, reconnectStrategy: reconnectPause };
  const client: RedisClientType = redis.createClient({
    url: target.url,
    socket: target.tls ? { ...socket, tls: true, ...(ca === undefined ? {} : { ca }) } : socket,
  }) as unknown as RedisClientType;
  return {
    events: client,
    commands: (options) => client.withCommandOptions(options),
    send: (args, options) => client.sendCommand(args, options),
    connect: () => client.connect(),
    close: () => client.close(),
    destroy: () => Promise.resolve(client.destroy()),
    duplicate: () => client.duplicate() as unknown as RedisSubscriber,
  };
}

function sentinelBackend(redis: RedisModule, target: Extract<RedisTarget, { kind: 'sentinel' }>, sentinelPassword: string | undefined): Backend {
  const socket = { connectTimeout: COMMAND_TIMEOUT_MS, reconnectStrategy: reconnectPause };
  const sentinel: RedisSentinelType = redis.createSentinel({
    name: target.masterName,
    sentinelRootNodes: target.sentinels,
    nodeClientOptions: {
      socket,
      ...(target.username === undefined ? {} : { username: target.username }),
      ...(target.password === undefined ? {} : { password: target.password }),
      ...(target.db === undefined ? {} : { database: target.db }),
    },
    sentinelClientOptions: { socket, ...(sentinelPassword === undefined ? {} : { password: sentinelPassword }) },
    // Every command goes to the master: a replica may not have the last write yet.
    replicaPoolSize: 0,
    // A new master is found from the sentinels' announcements and, should one be missed, by asking every second.
    scanInterval: 1000,
    // The connection problems of the master's and the sentinels' clients too, to say why a command failed.
    passthroughClientErrorEvents: true,
  }) as unknown as RedisSentinelType;
  return {
    events: sentinel,
    commands: (options) => sentinel.withCommandOptions(options) as unknown as Commands,
    send: (args, options) => sentinel.sendCommand(false, args, options),
    connect: () => sentinel.connect(),
    close: () => sentinel.close(),
    destroy: () => sentinel.destroy(),
    // node-redis's Sentinel follows the master with its subscriptions through a failover.
    duplicate: () => sentinel.duplicate() as unknown as RedisSubscriber,
  };
}

async function readCaFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new UsageError(`cannot read the Redis CA file ${file}: ${messageOf(err)}`, 'give a PEM file of the CA certificate that signed the Redis server certificate');
  }
}

/** Runs a Lua script (by its SHA, sending it only when the server does not know it yet, e.g. a new master). */
export async function runScript(client: RedisClient, script: { source: string; sha: string }, keys: string[], args: string[]): Promise<unknown> {
  try {
    return await client.sendCommand(['EVALSHA', script.sha, String(keys.length), ...keys, ...args]);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return client.sendCommand(['EVAL', script.source, String(keys.length), ...keys, ...args]);
  }
}

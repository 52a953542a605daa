/**
 * The one connection a Redis store uses: node-redis, loaded only when a Redis store is opened (it is not small),
 * failing fast while Redis is unreachable instead of queueing commands for ever.
 */
import type { RedisClientType } from 'redis';

import { CertmanError, UsageError } from '../../errors.js';

export type RedisClient = RedisClientType;

/** How long a connection attempt may take before a command fails. */
const CONNECT_TIMEOUT_MS = 5000;

/** The URL without its credentials, for messages. */
export function redisLocation(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.href;
}

/** Connects to `url` (redis:// or rediss://); a CertmanError naming the server when it cannot. */
export async function connectRedis(url: string): Promise<RedisClient> {
  if (!/^rediss?:\/\//i.test(url)) throw new UsageError(`not a Redis URL: ${redisLocation(url)}`, 'use redis://[user:pass@]host:port/db or rediss://…');
  const { createClient } = await import('redis');
  const client = createClient({
    url,
    socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000) },
  }) as unknown as RedisClient;
  // node-redis reports every connection problem as an event too; the command that meets it fails on its own.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    client.destroy();
    throw new CertmanError(`cannot connect to the Redis store ${redisLocation(url)}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
      hint: 'check that Redis runs there and that the URL, user and password are right',
    });
  }
  return client;
}

/** Runs a Lua script (by its SHA, sending it only when the server does not know it yet). */
export async function runScript(client: RedisClient, script: { source: string; sha: string }, keys: string[], args: string[]): Promise<unknown> {
  try {
    return await client.sendCommand(['EVALSHA', script.sha, String(keys.length), ...keys, ...args]);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return client.sendCommand(['EVAL', script.source, String(keys.length), ...keys, ...args]);
  }
}

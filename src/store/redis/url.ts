/**
 * What a Redis store URL names: one server (`redis://`, `rediss://` with TLS), or a master that Redis Sentinel
 * watches (`redis+sentinel://[user:pass@]host:port,host:port,…/<master name>[/<db>]`), and how to name it in
 * messages without its password.
 */
import { UsageError } from '../../errors.js';

export interface RedisNodeAddress {
  host: string;
  port: number;
}

export type RedisTarget =
  | { kind: 'server'; url: string; tls: boolean; location: string }
  | {
      kind: 'sentinel';
      sentinels: RedisNodeAddress[];
      masterName: string;
      /** For the master and replicas; the sentinels' own password, if they have one, is given apart. */
      username?: string;
      password?: string;
      db?: number;
      location: string;
    };

const SENTINEL_PORT = 26379;
const USAGE_HINT = 'use redis://[user:pass@]host:port/db, rediss://… (TLS) or redis+sentinel://[user:pass@]host:port,host:port,…/<master name>';

/** The URL without its credentials, for messages; a URL too broken to parse is named by its scheme only. */
export function redisLocation(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0];
  if (scheme === undefined) return 'a Redis URL';
  // The last "@": a password may hold an unescaped "@" or "/", a host never does.
  const at = url.lastIndexOf('@');
  return at === -1 ? url : `${scheme}${url.slice(at + 1)}`;
}

export function parseRedisUrl(url: string): RedisTarget {
  const location = redisLocation(url);
  if (/^rediss?:\/\//i.test(url)) {
    try {
      new URL(url);
    } catch {
      throw new UsageError(`not a valid Redis URL: ${location}`, USAGE_HINT);
    }
    return { kind: 'server', url, tls: /^rediss:/i.test(url), location };
  }
  if (/^redis\+sentinel:\/\//i.test(url)) return parseSentinelUrl(url, location);
  throw new UsageError(`not a Redis URL: ${location}`, USAGE_HINT);
}

function parseSentinelUrl(url: string, location: string): RedisTarget {
  const bad = (why: string): UsageError => new UsageError(`invalid Redis Sentinel URL ${location}: ${why}`, USAGE_HINT);
  const rest = url.slice('redis+sentinel://'.length);
  const at = rest.lastIndexOf('@');
  const credentials = at === -1 ? undefined : decodeCredentials(rest.slice(0, at), bad);
  const place = rest.slice(at + 1);
  const slash = place.indexOf('/');
  const hosts = slash === -1 ? place : place.slice(0, slash);
  const path = slash === -1 ? '' : place.slice(slash + 1);
  const sentinels = hosts.split(',').map((host) => parseHostPort(host, bad));
  const [masterName = '', db, ...extra] = path.split('/').map((part) => safeDecode(part, bad));
  if (masterName === '') throw bad('it names no master (…/<master name>)');
  if (extra.length > 0 || (db !== undefined && !/^\d{1,5}$/.test(db))) throw bad('the path is /<master name> or /<master name>/<db number>');
  return {
    kind: 'sentinel',
    sentinels,
    masterName,
    ...credentials,
    ...(db === undefined ? {} : { db: Number(db) }),
    location,
  };
}

function decodeCredentials(userinfo: string, bad: (why: string) => UsageError): { username?: string; password?: string } {
  const colon = userinfo.indexOf(':');
  const username = safeDecode(colon === -1 ? userinfo : userinfo.slice(0, colon), bad);
  const password = colon === -1 ? undefined : safeDecode(userinfo.slice(colon + 1), bad);
  return { ...(username === '' ? {} : { username }), ...(password === undefined ? {} : { password }) };
}

/** `host`, `host:port`, `[v6]` or `[v6]:port`; the port defaults to Sentinel's 26379. */
function parseHostPort(text: string, bad: (why: string) => UsageError): RedisNodeAddress {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  const port = match?.[3] === undefined ? SENTINEL_PORT : Number(match[3]);
  if (host === undefined || port < 1 || port > 65535) throw bad(`"${text}" is not host:port`);
  return { host, port };
}

function safeDecode(text: string, bad: (why: string) => UsageError): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw bad('a percent-escape is broken');
  }
}

/**
 * The Lua scripts that make the Redis store's writes atomic: Redis runs each one alone, so what it checks (the
 * lease's owner, the current document) still holds when it writes.
 */
import { createHash } from 'node:crypto';

export interface Script {
  source: string;
  sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/** Extends the lease KEYS[1] to ARGV[2] ms if ARGV[1] still owns it: 1, else 0. */
export const EXTEND_LEASE = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`);

/** Removes the lease KEYS[1] if ARGV[1] still owns it (never another run's). */
export const RELEASE_LEASE = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`);

/** Error reply of a write whose lease is no longer its run's. */
export const LEASE_LOST = 'LEASELOST';

/**
 * The commit of save(): with the lease KEYS[1] still owned by ARGV[1], takes the next version number (past the
 * live one and every number used before), writes its four files (ARGV[2..5]: cert, chain, fullchain, privkey) into
 * the hash KEYS[3], the metadata KEYS[2] ('{"format":1,"version":N,' .. ARGV[6], the rest of the JSON object) and
 * adds ARGV[7] to the names KEYS[4], then publishes ARGV[7] on the channel ARGV[8] (in the same atomic step, so a
 * node told of the change reads it; pcall: a Redis user not allowed that channel still saves, and watchers catch
 * up in their periodic pass); returns N. All or nothing: readers see the previous version or this one.
 */
export const SAVE_VERSION = script(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('${LEASE_LOST}') end
local version = tonumber(redis.call('HGET', KEYS[3], 'last') or '0') or 0
local current = redis.call('GET', KEYS[2])
if current then
  local ok, meta = pcall(cjson.decode, current)
  if ok and type(meta) == 'table' and type(meta.version) == 'number' and meta.version > version then version = meta.version end
end
version = version + 1
redis.call('HSET', KEYS[3], version .. ':cert', ARGV[2], version .. ':chain', ARGV[3], version .. ':fullchain', ARGV[4], version .. ':privkey', ARGV[5], 'last', version)
redis.call('SET', KEYS[2], '{"format":1,"version":' .. version .. ',' .. ARGV[6])
redis.call('SADD', KEYS[4], ARGV[7])
redis.pcall('PUBLISH', ARGV[8], ARGV[7])
return version`);

/**
 * delete(): with the lease KEYS[1] still owned by ARGV[1], removes the metadata KEYS[2], the files KEYS[3] and ARGV[2]
 * from the names KEYS[4], and publishes ARGV[2] on the channel ARGV[3].
 */
export const DELETE_LINEAGE = script(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('${LEASE_LOST}') end
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('SREM', KEYS[4], ARGV[2])
redis.pcall('PUBLISH', ARGV[3], ARGV[2])
return 1`);

/**
 * Compare-and-set of a document: replaces KEYS[1] by ARGV[2] only if it still holds ARGV[1] ('' = absent);
 * 1 when it did, 0 when another run changed it first (the caller reads again and retries).
 */
export const COMPARE_AND_SET = script(`
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1`);

/**
 * Compare-and-set of one hash field: replaces field ARGV[1] of KEYS[1] by ARGV[3] only if it still holds ARGV[2];
 * 1 when it did, 0 when it changed or went meanwhile (a save or delete came first: the caller reads again).
 */
export const HASH_FIELD_COMPARE_AND_SET = script(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1`);

/**
 * An account's write: its JSON ARGV[1] and sealed key ARGV[2] into the hash KEYS[1], and its sealed pending key
 * ARGV[3] into field ARGV[4] (removed when ARGV[3] is empty), in one step: a reader sees the account before or after.
 */
export const WRITE_ACCOUNT = script(`
redis.call('HSET', KEYS[1], 'account', ARGV[1], 'key', ARGV[2])
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], ARGV[4]) else redis.call('HSET', KEYS[1], ARGV[4], ARGV[3]) end
return 1`);

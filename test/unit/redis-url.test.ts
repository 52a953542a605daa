// Redis store URLs (src/store/redis/url.ts): pure parsing, no Redis.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { UsageError } from '../../src/errors.js';
import { parseRedisUrl, redisLocation } from '../../src/store/redis/url.js';

describe('Redis store URLs', () => {
  it('redis:// and rediss:// name one server, TLS for rediss://, and are named without their password', () => {
    assert.deepEqual(parseRedisUrl('redis://u:secret@10.0.0.1:6380/2'), {
      kind: 'server',
      url: 'redis://u:secret@10.0.0.1:6380/2',
      tls: false,
      location: 'redis://10.0.0.1:6380/2',
    });
    const tls = parseRedisUrl('rediss://:p%40ss@redis.example:6379');
    assert.equal(tls.kind === 'server' && tls.tls, true);
    assert.equal(tls.location, 'rediss://redis.example:6379');
  });

  it('redis+sentinel:// lists sentinels (IPv6 in brackets, default port 26379), the master, its credentials and db', () => {
    assert.deepEqual(parseRedisUrl('redis+sentinel://app:p%2Fw@s1.example:26380,[::1]:26381,10.0.0.3/mymaster/3'), {
      kind: 'sentinel',
      sentinels: [
        { host: 's1.example', port: 26380 },
        { host: '::1', port: 26381 },
        { host: '10.0.0.3', port: 26379 },
      ],
      masterName: 'mymaster',
      username: 'app',
      password: 'p/w',
      db: 3,
      location: 'redis+sentinel://s1.example:26380,[::1]:26381,10.0.0.3/mymaster/3',
    });
    assert.deepEqual(parseRedisUrl('redis+sentinel://:pw@127.0.0.1:1/m'), {
      kind: 'sentinel',
      sentinels: [{ host: '127.0.0.1', port: 1 }],
      masterName: 'm',
      password: 'pw',
      location: 'redis+sentinel://127.0.0.1:1/m',
    });
  });

  it('a password with unescaped "@" or "/" never shows in the location', () => {
    assert.equal(redisLocation('redis://u:a/b@c@host:1/0'), 'redis://host:1/0');
    const target = parseRedisUrl('redis+sentinel://u:a/b@c@h1:1,h2:2/m');
    assert.equal(target.location, 'redis+sentinel://h1:1,h2:2/m');
    assert.equal(target.kind === 'sentinel' && target.password, 'a/b@c');
  });

  for (const [url, why] of [
    ['redis+sentinel://h1:1,h2:2', /names no master/],
    ['redis+sentinel://h1:1,h2:2/', /names no master/],
    ['redis+sentinel://h1:1,,h2:2/m', /"" is not host:port/],
    ['redis+sentinel://h1:99999/m', /"h1:99999" is not host:port/],
    ['redis+sentinel://[::1/m', /is not host:port/],
    ['redis+sentinel://h1/m/x', /\/<master name>\/<db number>/],
    ['redis+sentinel://h1/m/0/1', /\/<master name>\/<db number>/],
    ['redis+sentinel://u:%zz@h1/m', /percent-escape/],
    ['redis://[oops', /not a valid Redis URL/],
    ['http://h/', /not a Redis URL/],
  ] as const) {
    it(`refuses ${url} with a usage error`, () => {
      assert.throws(
        () => parseRedisUrl(url),
        (err: unknown) => err instanceof UsageError && why.test(err.message) && !err.message.includes('%zz'),
      );
    });
  }
});

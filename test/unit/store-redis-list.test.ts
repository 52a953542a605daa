// Listing a Redis store larger than one batch of metadata reads (lineages.ts LIST_BATCH): every lineage once,
// a damaged one as a problem, a name whose metadata is gone left out, whichever batch they fall in.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { createClient } from 'redis';

import { newCert, pems, saveLeased } from '../harness/store-fixtures.js';
import { deleteKey, openRedis, redisUrl, useRedisServer } from './store-contract-redis.js';

useRedisServer();

describe('redis store list()', () => {
  test('2,500 lineages over several batches: each listed once, a damaged one a problem, one without metadata left out', async () => {
    const prefix = `list-${randomBytes(4).toString('hex')}:`;
    const store = await openRedis(redisUrl(), randomBytes(32), prefix);
    const names = Array.from({ length: 2500 }, (_, i) => `site-${i}.list.example`);
    await Promise.all(names.map((name) => saveLeased(store, newCert(name), pems(name))));
    const [damaged = '', gone = ''] = [names[1234], names[2499]];
    const admin = createClient({ url: redisUrl() });
    await admin.connect();
    try {
      await admin.set(`${prefix}cert:${damaged}:meta`, '{"format":1,"version":');
    } finally {
      await admin.close();
    }
    await deleteKey(`${prefix}cert:${gone}:meta`);

    const listed = (await store.list()).map((meta) => meta.name).sort();
    assert.deepEqual(listed, names.filter((name) => name !== damaged && name !== gone).sort());
    assert.deepEqual(store.problemDetails().map((p) => [p.name, p.reason]), [[damaged, 'not valid JSON']]);
  });
});

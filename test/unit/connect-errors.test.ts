// How a failed connection to a name with both IPv4 and IPv6 addresses is named and classified: Node 20 rejects it
// with an AggregateError whose own message is empty. The error here comes from a real socket, not a mock.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';

import { messageOf } from '../../src/errors.js';
import { networkOrRefusal } from '../../src/store/redis/connection.js';

/** Connects to a closed port of a name that resolves to 127.0.0.1 and ::1, as `localhost` does on many hosts. */
function dualStackRefusal(): Promise<unknown> {
  const lookup: net.LookupFunction = (_host, options, callback) => {
    const addresses = [
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ];
    if (options.all === true) (callback as unknown as (e: null, a: typeof addresses) => void)(null, addresses);
    else callback(null, '127.0.0.1', 4);
  };
  return new Promise((resolve) => {
    net.connect({ host: 'dual.test', port: 1, autoSelectFamily: true, lookup }).on('error', resolve);
  });
}

describe('connection errors', () => {
  it('an AggregateError is named by its parts and counts as a network failure, not a refusal', async () => {
    const err = await dualStackRefusal();
    assert.ok(err instanceof AggregateError);
    assert.match(messageOf(err), /ECONNREFUSED 127\.0\.0\.1:1; connect ECONNREFUSED ::1:1/);
    assert.equal(networkOrRefusal(err), 'connection');
  });

  it('an error with an OpenSSL code and no system call is a refusal; one with a system call is not', () => {
    assert.equal(networkOrRefusal(Object.assign(new Error('self-signed'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' })), 'refusal');
    assert.equal(networkOrRefusal(Object.assign(new Error('refused'), { code: 'ECONNREFUSED', syscall: 'connect' })), 'connection');
    assert.equal(messageOf(new AggregateError([], '')), 'connection failed');
  });
});

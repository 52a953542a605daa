import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryAfterMs } from '../../src/acme/http-policy.js';
import { pollUntil } from '../../src/acme/poll.js';
import { problemError } from '../../src/acme/problem.js';
import { AcmeProblemError, NetworkError } from '../../src/errors.js';

describe('retryAfterMs', () => {
  it('reads delay-seconds and HTTP dates', () => {
    assert.equal(retryAfterMs('3'), 3000);
    const now = Date.parse('2026-11-21T10:00:00Z');
    assert.equal(retryAfterMs('Sat, 21 Nov 2026 10:00:05 GMT', now), 5000);
    assert.equal(retryAfterMs('Sat, 21 Nov 2026 09:00:00 GMT', now), 0);
  });
  it('ignores absent and malformed values', () => {
    assert.equal(retryAfterMs(undefined), undefined);
    assert.equal(retryAfterMs(''), undefined);
    assert.equal(retryAfterMs('soon'), undefined);
  });
});

describe('problemError', () => {
  it('keeps type, detail and per-identifier subproblems', () => {
    const err = problemError(
      {
        type: 'urn:ietf:params:acme:error:rejectedIdentifier',
        detail: 'Some identifiers were rejected',
        subproblems: [{ type: 'urn:ietf:params:acme:error:rejectedIdentifier', detail: 'blocked name', identifier: { type: 'dns', value: 'b.example.test' } }],
      },
      400,
      'fallback',
    );
    assert.ok(err instanceof AcmeProblemError);
    assert.equal(err.status, 400);
    assert.equal(err.subproblems[0]?.identifier, 'b.example.test');
    assert.match(err.message, /^rejectedIdentifier: Some identifiers were rejected; b\.example\.test: blocked name$/);
    assert.ok(err.hint !== undefined);
  });
  it('survives a body that is not a problem document', () => {
    const err = problemError('<html>bad gateway</html>', 502, 'HTTP 502 from x');
    assert.equal(err.detail, 'HTTP 502 from x');
    assert.equal(err.exitCode, 1);
  });
});

describe('pollUntil', () => {
  it('polls until settled, honouring Retry-After over its own backoff', async () => {
    const seen: number[] = [];
    const start = Date.now();
    let n = 0;
    const body = await pollUntil(
      async () => {
        seen.push(Date.now() - start);
        n += 1;
        return { body: n, retryAfterMs: n === 1 ? 10 : undefined };
      },
      (value) => value >= 3,
      { what: 'test', timeoutMs: 5000, initialDelayMs: 500 },
    );
    assert.equal(body, 3);
    assert.equal(seen.length, 3);
    assert.ok((seen[1] ?? 0) < 300, `Retry-After of 10 ms should beat the 500 ms backoff (${seen[1]})`);
  });
  it('gives up with a NetworkError that names what it waited for', async () => {
    await assert.rejects(
      pollUntil(async () => ({ body: 'pending', retryAfterMs: undefined }), () => false, { what: 'validation of a.test', timeoutMs: 50, initialDelayMs: 20 }),
      (err: unknown) => err instanceof NetworkError && /validation of a\.test/.test(err.message),
    );
  });
});

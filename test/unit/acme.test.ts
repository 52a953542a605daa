import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import type { AxiosResponse, InternalAxiosRequestConfig } from 'axios' with { 'resolution-mode': 'require' };
import { BAD_NONCE_RETRIES, type SigningHttp } from '../../src/acme/client.js';
import { retryAfterMs } from '../../src/acme/http-policy.js';
import { pollUntil } from '../../src/acme/poll.js';
import { problemError, retryAfterTime } from '../../src/acme/problem.js';
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
  it('keeps a huge Retry-After (14 digits) a valid time, a week away, and the error reportable', () => {
    const now = Date.parse('2026-12-03T12:00:00Z');
    const wait = retryAfterMs('99999999999999');
    assert.ok(wait !== undefined);
    const until = retryAfterTime(wait, now);
    assert.equal(until.toISOString(), '2026-12-10T12:00:00.000Z');
    assert.match(problemError({ type: 'urn:ietf:params:acme:error:serverInternal', detail: 'busy' }, 503, 'x', until).hint ?? '', /try again after 2026-12-10T12:00:00\.000Z/);
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
  it('ends a wait between polls at once when its signal fires, with the signal\'s own reason', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled');
    let polls = 0;
    const waiting = pollUntil(
      async () => {
        polls += 1;
        setImmediate(() => controller.abort(reason));
        return { body: 'pending', retryAfterMs: 600_000 };
      },
      () => false,
      { what: 'test', timeoutMs: 3_600_000, signal: controller.signal },
    );
    await assert.rejects(waiting, (err: unknown) => err === reason);
    assert.equal(polls, 1);
  });
});

/**
 * src/acme/client.ts drives acme-client's internal HTTP client (`Client#http`, which its typings do not
 * declare). These tests fail when an acme-client upgrade changes what certman relies on.
 */
describe('acme-client internals (pinned at 5.4.0)', () => {
  const DIRECTORY_URL = 'https://ca.test/dir';
  const BAD_NONCE = { type: 'urn:ietf:params:acme:error:badNonce', detail: 'JWS has an invalid anti-replay nonce' };

  async function internalHttp(): Promise<{ http: SigningHttp; axios: (typeof import('acme-client'))['axios'] }> {
    const acme = await import('acme-client');
    const accountKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const client = new acme.Client({ directoryUrl: DIRECTORY_URL, accountKey });
    return { http: (client as unknown as { http: SigningHttp }).http, axios: acme.axios };
  }

  /** Answers acme-client's requests without a network; records the nonce of every signed POST. */
  function stubTransport(post: (attempt: number) => { status: number; data: unknown; nonce?: string }) {
    const nonces: (string | undefined)[] = [];
    let fresh = 0;
    const adapter = async (config: InternalAxiosRequestConfig): Promise<AxiosResponse> => {
      const answer = (status: number, data: unknown, headers: Record<string, string>): AxiosResponse =>
        ({ status, statusText: '', data, headers, config, request: {} }) as AxiosResponse;
      if (config.method === 'get') return answer(200, { newNonce: 'https://ca.test/nonce', newOrder: 'https://ca.test/order' }, {});
      if (config.method === 'head') return answer(200, '', { 'replay-nonce': `fresh-${++fresh}` });
      const jws = JSON.parse(String(config.data)) as { protected: string };
      nonces.push((JSON.parse(Buffer.from(jws.protected, 'base64url').toString()) as { nonce?: string }).nonce);
      const next = post(nonces.length);
      return answer(next.status, next.data, next.nonce === undefined ? {} : { 'replay-nonce': next.nonce });
    };
    return { adapter, nonces };
  }

  it('is the version certman was written against', () => {
    const pkg = createRequire(import.meta.url)('acme-client/package.json') as { version: string };
    assert.equal(pkg.version, '5.4.0', 'acme-client was upgraded: re-check SigningHttp in src/acme/client.ts against its src/http.js');
  });

  it('exposes Client#http with the methods and the badNonce retry count certman uses', async () => {
    const { http } = await internalHttp();
    for (const method of ['signedRequest', 'request', 'getResourceUrl', 'getDirectory'] as const) {
      assert.equal(typeof http[method], 'function', `Client#http.${method}`);
    }
    assert.equal(http.maxBadNonceRetries, 5, 'acme-client default');
  });

  it('retries badNonce with the nonce from the error answer, at most maxBadNonceRetries times', async () => {
    const { http, axios } = await internalHttp();
    const original = axios.defaults.adapter;
    try {
      // Refused twice, each refusal carrying the next nonce; then accepted.
      const accepted = stubTransport((n) => (n <= 2 ? { status: 400, data: BAD_NONCE, nonce: `from-error-${n}` } : { status: 201, data: {}, nonce: 'next' }));
      axios.defaults.adapter = accepted.adapter;
      const res = await http.signedRequest('https://ca.test/order', {}, { kid: 'https://ca.test/acct/1', nonce: 'pooled' });
      assert.equal(res.status, 201);
      assert.deepEqual(accepted.nonces, ['pooled', 'from-error-1', 'from-error-2']);

      // A CA that refuses every nonce: the count bounds the loop; an error answer without a nonce costs a newNonce.
      const refused = stubTransport(() => ({ status: 400, data: BAD_NONCE }));
      axios.defaults.adapter = refused.adapter;
      http.maxBadNonceRetries = BAD_NONCE_RETRIES;
      const last = await http.signedRequest('https://ca.test/order', {}, { kid: 'https://ca.test/acct/1', nonce: 'pooled' });
      assert.equal(last.status, 400);
      assert.equal(refused.nonces.length, BAD_NONCE_RETRIES + 1);
      assert.deepEqual(refused.nonces.slice(0, 3), ['pooled', 'fresh-1', 'fresh-2']);
    } finally {
      axios.defaults.adapter = original;
    }
  });
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { ariCertId, parseRenewalInfo, renewalInfoRequestUrl, serialContentOctets } from '../../src/acme/ari.js';
import type { AcmeClient } from '../../src/acme/client.js';
import { AcmeProblemError, CertmanError } from '../../src/errors.js';
import { nextAriState, pickRenewalTime, refreshAri } from '../../src/renewal/ari.js';
import type { AriState, CertificateMeta } from '../../src/lineage/types.js';
import { fakeHttp } from './fake-http.js';

const execFileP = promisify(execFile);

/** RFC 9773 §4.1's example: this keyIdentifier and serial 0x0087654321. */
const RFC_KEY_ID = '69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4';
const RFC_CERT_ID = 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE';
const RFC_AKI_B64 = 'aYhba4dGQEHhs3uEe6CuLN4ByNQ';

let dir: string;

/** A self-signed certificate from openssl with the given serial and, unless `keyId` is null, SKI = AKI = keyId. */
async function makeCert(file: string, serial: string, keyId: string | null): Promise<string> {
  const ext =
    keyId === null
      ? ['-addext', 'subjectKeyIdentifier=none', '-addext', 'authorityKeyIdentifier=none']
      : ['-addext', `subjectKeyIdentifier=${keyId}`, '-addext', 'authorityKeyIdentifier=keyid:always'];
  await execFileP('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', join(dir, `${file}.key`), '-out', join(dir, `${file}.pem`),
    '-subj', '/CN=ari.example.test', '-days', '1', '-set_serial', serial, ...ext,
  ]);
  return readFile(join(dir, `${file}.pem`), 'utf8');
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certman-ari-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ariCertId', () => {
  it("matches RFC 9773's example (serial with the high bit set keeps its 0x00)", async () => {
    const pem = await makeCert('rfc', '0x87654321', RFC_KEY_ID);
    // Node shows the serial without the sign octet: the id must put it back.
    assert.equal(new X509Certificate(pem).serialNumber.toUpperCase(), '87654321');
    assert.equal(await ariCertId(pem), RFC_CERT_ID);
  });

  it('uses the first certificate of a chain', async () => {
    const leaf = await makeCert('leaf', '0x87654321', RFC_KEY_ID);
    const other = await makeCert('other', '0x01', '01:02:03:04');
    assert.equal(await ariCertId(leaf + other), RFC_CERT_ID);
    assert.equal(await ariCertId(other + leaf), 'AQIDBA.AQ');
  });

  it('encodes serials without the high bit as they are, and long serials whole', async () => {
    assert.equal(await ariCertId(await makeCert('low', '0x12345678', RFC_KEY_ID)), `${RFC_AKI_B64}.EjRWeA`);
    assert.equal(await ariCertId(await makeCert('b80', '0x80', RFC_KEY_ID)), `${RFC_AKI_B64}.AIA`);
    const long = 'ff'.repeat(19) + '01'; // 20 octets, high bit set: 21 content octets
    const id = await ariCertId(await makeCert('long', `0x${long}`, RFC_KEY_ID));
    assert.equal(id, `${RFC_AKI_B64}.${Buffer.from(`00${long}`, 'hex').toString('base64url')}`);
    assert.ok(!id.includes('='), 'no base64 padding');
  });

  it('refuses a certificate without an authority key identifier, and non-certificates', async () => {
    const bare = await makeCert('bare', '5', null);
    await assert.rejects(ariCertId(bare), (err: unknown) => err instanceof CertmanError && /authority key identifier/.test(err.message));
    await assert.rejects(ariCertId('not a certificate'), CertmanError);
    await assert.rejects(ariCertId('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), CertmanError);
  });
});

describe('serialContentOctets', () => {
  it('restores the sign octet and pads odd hex', () => {
    assert.equal(serialContentOctets('87654321').toString('hex'), '0087654321');
    assert.equal(serialContentOctets('0087654321').toString('hex'), '0087654321');
    assert.equal(serialContentOctets('7F').toString('hex'), '7f');
    assert.equal(serialContentOctets('123').toString('hex'), '0123');
    assert.equal(serialContentOctets('87:65:43:21').toString('hex'), '0087654321');
    assert.throws(() => serialContentOctets(''), CertmanError);
  });
});

describe('renewal information responses', () => {
  const url = 'https://ca.test/renewal-info/x.y';
  it('reads the window, explanationURL and Retry-After', () => {
    const info = parseRenewalInfo(
      { suggestedWindow: { start: '2026-01-01T00:00:00Z', end: '2026-01-03T00:00:00.5+01:00' }, explanationURL: 'https://ca.test/why' },
      3_600_000,
      url,
    );
    assert.equal(info.window.start.toISOString(), '2026-01-01T00:00:00.000Z');
    assert.equal(info.window.end.toISOString(), '2026-01-02T23:00:00.500Z');
    assert.equal(info.explanationUrl, 'https://ca.test/why');
    assert.equal(info.retryAfterMs, 3_600_000);
    const bare = parseRenewalInfo({ suggestedWindow: { start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' } }, undefined, url);
    assert.deepEqual(Object.keys(bare), ['window']);
  });
  it('rejects a missing, unparsable or inverted window', () => {
    const bad: unknown[] = [
      null,
      'text',
      {},
      { suggestedWindow: null },
      { suggestedWindow: { start: '2026-01-01T00:00:00Z' } },
      { suggestedWindow: { start: 'yesterday', end: '2026-01-02T00:00:00Z' } },
      { suggestedWindow: { start: '2026-01-01', end: '2026-01-02' } },
      { suggestedWindow: { start: 1767225600000, end: 1767312000000 } },
      { suggestedWindow: { start: '2026-01-02T00:00:00Z', end: '2026-01-01T00:00:00Z' } },
      { suggestedWindow: { start: '2026-01-01T00:00:00Z', end: '2026-01-01T00:00:00Z' } },
    ];
    for (const body of bad) {
      assert.throws(() => parseRenewalInfo(body, undefined, url), (err: unknown) => err instanceof CertmanError && err.message.includes(url), JSON.stringify(body));
    }
  });
  it('builds <renewalInfo>/<certId>', () => {
    assert.equal(renewalInfoRequestUrl('https://ca.test/ri', 'a.b'), 'https://ca.test/ri/a.b');
    assert.equal(renewalInfoRequestUrl('https://ca.test/ri/', 'a.b'), 'https://ca.test/ri/a.b');
  });
});

const WINDOW = { start: new Date('2026-03-01T00:00:00Z'), end: new Date('2026-03-03T00:00:00Z') };
const NOW = new Date('2026-02-20T12:00:00Z');
const HOUR = 3_600_000;

describe('pickRenewalTime', () => {
  it('stays in [start, end) at the extremes and spreads uniformly', () => {
    assert.equal(pickRenewalTime(WINDOW, () => 0).getTime(), WINDOW.start.getTime());
    assert.ok(pickRenewalTime(WINDOW, () => 0.9999999999999999).getTime() < WINDOW.end.getTime());
    assert.ok(pickRenewalTime(WINDOW, () => 1).getTime() < WINDOW.end.getTime(), 'a random() of 1 still lands inside');
    assert.equal(pickRenewalTime(WINDOW, () => 0.5).toISOString(), '2026-03-02T00:00:00.000Z');
    const tiny = { start: new Date(1000), end: new Date(1001) };
    assert.equal(pickRenewalTime(tiny, () => 0.99).getTime(), 1000);
    let low = 0;
    for (let i = 0; i < 2000; i++) {
      const t = pickRenewalTime(WINDOW).getTime();
      assert.ok(t >= WINDOW.start.getTime() && t < WINDOW.end.getTime());
      if (t < WINDOW.start.getTime() + (WINDOW.end.getTime() - WINDOW.start.getTime()) / 2) low++;
    }
    assert.ok(low > 800 && low < 1200, `about half in the first half: ${low}`);
  });
});

describe('nextAriState', () => {
  const first = nextAriState(undefined, { window: WINDOW }, NOW, () => 0.25);

  it('picks a time, and checks again in 6 h without Retry-After', () => {
    assert.deepEqual(first, {
      windowStart: '2026-03-01T00:00:00.000Z',
      windowEnd: '2026-03-03T00:00:00.000Z',
      renewAt: '2026-03-01T12:00:00.000Z',
      nextCheck: '2026-02-20T18:00:00.000Z',
    });
  });

  it('keeps the picked time while the window is unchanged', () => {
    const later = new Date(NOW.getTime() + 7 * HOUR);
    const same = nextAriState(first, { window: { start: new Date(WINDOW.start), end: new Date(WINDOW.end) } }, later, () => 0.9);
    assert.equal(same.renewAt, first.renewAt);
    assert.equal(same.nextCheck, new Date(later.getTime() + 6 * HOUR).toISOString());
  });

  it('picks again when the window moved (e.g. the CA wants an early renewal)', () => {
    const moved = { start: new Date('2026-02-20T00:00:00Z'), end: new Date('2026-02-21T00:00:00Z') };
    const next = nextAriState(first, { window: moved, explanationUrl: 'https://ca.test/incident' }, NOW, () => 0.5);
    assert.equal(next.renewAt, '2026-02-20T12:00:00.000Z');
    assert.equal(next.windowStart, '2026-02-20T00:00:00.000Z');
    assert.equal(next.explanationUrl, 'https://ca.test/incident');
    const endOnly = nextAriState(first, { window: { start: WINDOW.start, end: new Date('2026-03-04T00:00:00Z') } }, NOW, () => 0.9);
    assert.notEqual(endOnly.renewAt, first.renewAt);
    const broken: AriState = { ...first, renewAt: 'garbage' };
    assert.equal(nextAriState(broken, { window: WINDOW }, NOW, () => 0.5).renewAt, '2026-03-02T00:00:00.000Z');
  });

  it('follows Retry-After within [1 min, 24 h]', () => {
    const check = (retryAfterMs: number): number =>
      Date.parse(nextAriState(first, { window: WINDOW, retryAfterMs }, NOW).nextCheck) - NOW.getTime();
    assert.equal(check(30 * 60_000), 30 * 60_000);
    assert.equal(check(0), 60_000);
    assert.equal(check(5_000), 60_000);
    assert.equal(check(3 * 24 * HOUR), 24 * HOUR);
  });
});

/** A stand-in for AcmeClient's ARI methods that records what was asked. */
function fakeClient(renewalInfo: string | undefined, answer: { window: { start: Date; end: Date }; retryAfterMs?: number }) {
  const asked: string[] = [];
  const client = {
    renewalInfoUrl: async () => renewalInfo,
    getRenewalInfo: async (certId: string) => {
      asked.push(certId);
      return answer;
    },
  } as unknown as AcmeClient;
  return { client, asked };
}

describe('refreshAri', () => {
  let pem: string;
  let meta: CertificateMeta;
  before(async () => {
    pem = await makeCert('refresh', '0x87654321', RFC_KEY_ID);
    meta = {
      name: 'ari.example.test',
      domains: ['ari.example.test'],
      key: { type: 'ecdsa', curve: 'p256' },
      reuseKey: false,
      method: { kind: 'standalone', port: 80 },
      server: 'https://ca.test/dir',
      accountUrl: 'https://ca.test/acct/1',
      version: 1,
      serial: '87654321',
      notBefore: '2026-01-01T00:00:00.000Z',
      notAfter: '2026-04-01T00:00:00.000Z',
    };
  });

  it('returns undefined when the CA has no renewalInfo', async () => {
    const { client, asked } = fakeClient(undefined, { window: WINDOW });
    assert.equal(await refreshAri(meta, pem, client, NOW), undefined);
    assert.deepEqual(asked, []);
  });

  it('asks for the certificate id and keeps the state until nextCheck', async () => {
    const { client, asked } = fakeClient('https://ca.test/ri', { window: WINDOW, retryAfterMs: 2 * HOUR });
    const state = await refreshAri(meta, pem, client, NOW);
    assert.deepEqual(asked, [RFC_CERT_ID]);
    assert.ok(state !== undefined);
    assert.equal(state.nextCheck, new Date(NOW.getTime() + 2 * HOUR).toISOString());
    const withState = { ...meta, ari: state };
    assert.equal(await refreshAri(withState, pem, client, new Date(NOW.getTime() + HOUR)), state, 'unchanged, no request');
    assert.equal(asked.length, 1);
    const again = await refreshAri(withState, pem, client, new Date(NOW.getTime() + 2 * HOUR));
    assert.equal(asked.length, 2);
    assert.equal(again?.renewAt, state.renewAt, 'same window, same time');
  });

  it('lets errors through to the caller', async () => {
    const client = {
      renewalInfoUrl: async () => 'https://ca.test/ri',
      getRenewalInfo: async () => {
        throw new CertmanError('boom');
      },
    } as unknown as AcmeClient;
    await assert.rejects(refreshAri(meta, pem, client, NOW), /boom/);
  });
});

const DIRECTORY = { newOrder: 'https://ca.test/new-order', renewalInfo: 'https://ca.test/renewal-info' };
const ORDER = { status: 'pending', identifiers: [], authorizations: [], finalize: 'https://ca.test/fin/1' };

describe('AcmeClient ARI methods', () => {
  it('reads renewalInfo from the directory', async () => {
    assert.equal(await fakeHttp(DIRECTORY, {}).client.renewalInfoUrl(), 'https://ca.test/renewal-info');
    assert.equal(await fakeHttp({ newOrder: 'x' }, {}).client.renewalInfoUrl(), undefined);
  });

  it('GETs <renewalInfo>/<certId> and validates the answer', async () => {
    const body = { suggestedWindow: { start: '2026-03-01T00:00:00Z', end: '2026-03-03T00:00:00Z' } };
    const { client, gets } = fakeHttp(DIRECTORY, {
      get: [
        { status: 200, data: body, headers: { 'retry-after': '120' } },
        { status: 404, data: { type: 'urn:ietf:params:acme:error:malformed', detail: 'unknown certificate' }, headers: {} },
        { status: 200, data: { suggestedWindow: { start: '2026-03-03T00:00:00Z', end: '2026-03-01T00:00:00Z' } }, headers: {} },
      ],
    });
    const info = await client.getRenewalInfo(RFC_CERT_ID);
    assert.deepEqual(gets, [`https://ca.test/renewal-info/${RFC_CERT_ID}`]);
    assert.equal(info.retryAfterMs, 120_000);
    assert.equal(info.window.end.toISOString(), '2026-03-03T00:00:00.000Z');
    await assert.rejects(client.getRenewalInfo('x.y'), (err: unknown) => err instanceof AcmeProblemError && err.status === 404);
    await assert.rejects(client.getRenewalInfo('x.y'), (err: unknown) => err instanceof CertmanError && /ends before it starts/.test(err.message));
  });

  it('refuses to fetch renewal information from a CA without renewalInfo', async () => {
    await assert.rejects(fakeHttp({ newOrder: 'x' }, {}).client.getRenewalInfo('x.y'), /does not offer renewal information/);
  });

  it('sends replaces, and retries once without it on 409 alreadyReplaced', async () => {
    const created = { status: 201, data: ORDER, headers: { location: 'https://ca.test/order/1' } };
    const conflict = {
      status: 409,
      data: { type: 'urn:ietf:params:acme:error:alreadyReplaced', detail: 'already replaced', status: 409 },
      headers: { 'replay-nonce': 'n1' },
    };
    const plain = fakeHttp(DIRECTORY, { signed: [created] });
    await plain.client.newOrder(['a.test']);
    assert.deepEqual(plain.signed[0]?.payload, { identifiers: [{ type: 'dns', value: 'a.test' }] });

    const retried = fakeHttp(DIRECTORY, { signed: [conflict, created] });
    const order = await retried.client.newOrder(['a.test'], { replaces: RFC_CERT_ID });
    assert.equal(order.url, 'https://ca.test/order/1');
    assert.deepEqual(
      retried.signed.map((s) => s.payload),
      [{ identifiers: [{ type: 'dns', value: 'a.test' }], replaces: RFC_CERT_ID }, { identifiers: [{ type: 'dns', value: 'a.test' }] }],
    );

    const twice = fakeHttp(DIRECTORY, { signed: [conflict, conflict] });
    await assert.rejects(twice.client.newOrder(['a.test'], { replaces: RFC_CERT_ID }), /alreadyReplaced/);
    assert.equal(twice.signed.length, 2, 'only one retry');

    const other = fakeHttp(DIRECTORY, { signed: [{ ...conflict, data: { type: 'urn:ietf:params:acme:error:malformed', detail: 'no' }, status: 400 }] });
    await assert.rejects(other.client.newOrder(['a.test'], { replaces: RFC_CERT_ID }), /malformed/);
    assert.equal(other.signed.length, 1, 'other problems are not retried');
  });
});

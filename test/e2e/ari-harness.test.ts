// Proves the ARI proxy in front of Pebble 2.4 (which has no renewalInfo): the real CLI registers and
// issues through it, the directory gains renewalInfo, windows come back for real certificate ids, and
// newOrder payloads (with `replaces`) are seen and can be refused once with 409 alreadyReplaced.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { ariCertId } from '../../src/acme/ari.js';
import { connectAcme, type AcmeClient } from '../../src/acme/client.js';
import { httpRequestText, startAriProxy, tempDir, uniqueName, type AriProxy } from '../harness/index.js';
import { json, pebbleSuite } from './fixture.js';

const suite = pebbleSuite({ nonceRejectPercent: 5 });
let proxy: AriProxy;
let ca: string;

const viaProxy = (dir: string, args: string[]) => suite.certman(dir, args, { CERTMAN_SERVER: proxy.directoryUrl });

async function client(): Promise<AcmeClient> {
  const accountKeyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return connectAcme({ server: proxy.directoryUrl, accountKeyPem, caFile: suite.pebble.caFile, requestTimeoutMs: 10_000 });
}

describe('ARI proxy in front of Pebble', () => {
  // Inside the suite, so they run after the fixture's root-level hook has started Pebble.
  before(async () => {
    proxy = await startAriProxy(suite.pebble);
    ca = await readFile(suite.pebble.caFile, 'utf8');
  });
  after(async () => {
    await proxy?.stop();
  });

  let dir: string;
  let name: string;
  let certId: string;

  it('serves Pebble’s directory with every URL on the proxy, plus renewalInfo', async () => {
    const res = await httpRequestText(proxy.directoryUrl, { ca });
    assert.equal(res.status, 200);
    const directory = JSON.parse(res.body) as Record<string, string>;
    const origin = new URL(proxy.directoryUrl).origin;
    assert.notEqual(origin, new URL(suite.pebble.directoryUrl).origin);
    assert.equal(directory.renewalInfo, `${origin}/renewal-info`);
    for (const key of ['newNonce', 'newAccount', 'newOrder', 'revokeCert']) assert.ok(directory[key]?.startsWith(`${origin}/`), `${key}: ${directory[key]}`);
    const direct = JSON.parse((await httpRequestText(suite.pebble.directoryUrl, { ca })).body) as Record<string, unknown>;
    assert.equal(direct.renewalInfo, undefined, 'Pebble 2.4 itself has no ARI');
  });

  it('lets the real CLI register and issue through it', async () => {
    dir = await tempDir('cfg');
    name = uniqueName('ari');
    const reg = await viaProxy(dir, ['--json', 'register', '--email', 'ops@example.com', '--agree-tos']);
    assert.equal(reg.code, 0, reg.stderr);
    assert.ok((json(reg).account as { url: string }).url.startsWith(new URL(proxy.directoryUrl).origin), 'account URL on the proxy');
    const issued = await viaProxy(dir, ['--json', 'issue', '-d', name, ...suite.standalone()]);
    assert.equal(issued.code, 0, issued.stderr);
    assert.equal(json(issued).status, 'issued');
    assert.deepEqual(proxy.newOrderPayloads().at(-1), { identifiers: [{ type: 'dns', value: name }] });
    const listed = json<{ name: string }[]>(await viaProxy(dir, ['--json', 'list']));
    assert.equal(listed[0]?.name, name);
  });

  it('answers renewal-info for the issued certificate’s real ARI id', async () => {
    const pem = await readFile(join(dir, 'live', name, 'cert.pem'), 'utf8');
    certId = await ariCertId(pem);
    assert.match(certId, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const start = new Date(Date.now() + 3_600_000);
    const end = new Date(start.getTime() + 7_200_000);
    proxy.setWindow({ start, end, explanationUrl: 'https://ca.test/why' }, certId, 120);

    const acme = await client();
    assert.equal(await acme.renewalInfoUrl(), `${new URL(proxy.directoryUrl).origin}/renewal-info`);
    const info = await acme.getRenewalInfo(certId);
    assert.equal(info.window.start.getTime(), start.getTime());
    assert.equal(info.window.end.getTime(), end.getTime());
    assert.equal(info.explanationUrl, 'https://ca.test/why');
    assert.equal(info.retryAfterMs, 120_000);
    assert.deepEqual(proxy.ariRequests(), [certId]);

    // Other ids: 404 until a window for every certificate is set, which then replaces per-id ones.
    await assert.rejects(acme.getRenewalInfo('AAAA.AQ'), /no renewal information/);
    proxy.setWindow({ start: new Date('2030-01-01T00:00:00Z'), end: new Date('2030-01-02T00:00:00Z') });
    const raw = await httpRequestText(`${new URL(proxy.directoryUrl).origin}/renewal-info/AAAA.AQ`, { ca });
    assert.equal(raw.status, 200);
    assert.equal(raw.headers['retry-after'], undefined);
    assert.deepEqual(JSON.parse(raw.body), { suggestedWindow: { start: '2030-01-01T00:00:00.000Z', end: '2030-01-02T00:00:00.000Z' } });
    assert.equal((await acme.getRenewalInfo(certId)).window.start.toISOString(), '2030-01-01T00:00:00.000Z');
    assert.deepEqual(proxy.ariRequests(), [certId, 'AAAA.AQ', 'AAAA.AQ', certId]);
  });

  it('records replaces (Pebble 2.4 ignores it) and refuses it once with 409 alreadyReplaced', async () => {
    const acme = await client();
    await acme.newAccount({ agreeTos: true, eab: false });
    const before = proxy.newOrderPayloads().length;
    const first = await acme.newOrder([name], { replaces: certId });
    assert.equal(first.status, 'pending');
    assert.ok(first.url.startsWith(new URL(proxy.directoryUrl).origin));

    proxy.conflictOnReplaces(true);
    const second = await acme.newOrder([name], { replaces: certId });
    assert.equal(second.status, 'pending');
    const third = await acme.newOrder([name], { replaces: certId });
    assert.equal(third.status, 'pending');
    const identifiers = [{ type: 'dns', value: name }];
    assert.deepEqual(proxy.newOrderPayloads().slice(before), [
      { identifiers, replaces: certId },
      { identifiers, replaces: certId }, // answered 409 by the proxy
      { identifiers }, // the client's retry without replaces
      { identifiers, replaces: certId }, // the conflict happens once only
    ]);
  });
});

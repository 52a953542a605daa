// `check --expiry`: the state of each stored and served certificate, the worst of them, the status line; which
// command lines are plugin mode; endpoints as node-local metadata.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { isPluginMode, pluginError } from '../../src/cli/plugin-mode.js';
import { withoutNodeLocal, endpointsOnThisNode } from '../../src/lineage/node-local.js';
import type { NewCertificate } from '../../src/lineage/types.js';
import { metaProblem } from '../../src/store/fs/meta.js';
import { expiryState, pluginAnswer, pluginLines, statusLine, worstState, type ExpiryThresholds } from '../../src/served/expiry.js';
import type { CertificateCheck } from '../../src/served/run.js';
import type { EndpointCheck } from '../../src/served/types.js';

const NOW = new Date('2026-12-01T00:00:00Z');
const DAY = 86_400_000;
const inDays = (days: number) => new Date(NOW.getTime() + days * DAY).toISOString();
const T: ExpiryThresholds = { warnDays: 21, critDays: 7 };

function presented(days: number, serial = 'aa') {
  return { serial, notBefore: NOW.toISOString(), notAfter: inDays(days), fingerprint: serial.padEnd(64, '0'), subject: 'CN=x.test', issuer: 'CN=CA', names: ['x.test'] };
}

function checked(name: string, days: number, endpoints: EndpointCheck[] = []): CertificateCheck {
  return { name, status: 'checked', domains: [name], version: 2, serial: 'bb', notAfter: inDays(days), check: { checkedAt: NOW.toISOString(), liveSerial: 'bb', endpoints } };
}

const liveAt = (days: number): EndpointCheck => ({ endpoint: '127.0.0.1:443', status: 'live', certificate: presented(days, 'bb') });

describe('expiryState and worstState', () => {
  test('CRITICAL below critDays (and expired), WARNING below warnDays, else OK', () => {
    assert.equal(expiryState(inDays(-1), NOW, T), 'CRITICAL');
    assert.equal(expiryState(inDays(6.9), NOW, T), 'CRITICAL');
    assert.equal(expiryState(inDays(7), NOW, T), 'WARNING');
    assert.equal(expiryState(inDays(20.9), NOW, T), 'WARNING');
    assert.equal(expiryState(inDays(21), NOW, T), 'OK');
  });

  test("the plugins' order: CRITICAL > WARNING > UNKNOWN > OK", () => {
    assert.equal(worstState([]), 'OK');
    assert.equal(worstState(['OK', 'UNKNOWN']), 'UNKNOWN');
    assert.equal(worstState(['UNKNOWN', 'WARNING', 'OK']), 'WARNING');
    assert.equal(worstState(['WARNING', 'CRITICAL', 'UNKNOWN']), 'CRITICAL');
  });
});

describe('pluginAnswer', () => {
  test('OK: counts, the soonest expiry, performance data with the thresholds', () => {
    const answer = pluginAnswer([checked('a.test', 60, [liveAt(60)]), checked('b.test', 30, [liveAt(30)])], NOW, T, true);
    assert.equal(answer.state, 'OK');
    assert.match(answer.summary, /^2 certificates OK; soonest: b\.test: expires in 30 days/);
    assert.equal(answer.perfdata, 'days_left=30;21;7 certificates=2 endpoints=2 endpoints_not_live=0');
  });

  test('an older version served is a WARNING even far from expiry, and its own expiry when that is worse', () => {
    const older = (days: number): EndpointCheck => ({ endpoint: '127.0.0.1:443', status: 'older', version: 1, certificate: presented(days) });
    assert.equal(pluginAnswer([checked('a.test', 80, [older(60)])], NOW, T, true).state, 'WARNING');
    const soon = pluginAnswer([checked('a.test', 80, [older(3)])], NOW, T, true);
    assert.equal(soon.state, 'CRITICAL');
    assert.match(soon.summary, /a\.test at 127\.0\.0\.1:443: serves older version 1 \(serial aa\), expires in 3 days/);
    assert.match(soon.perfdata, /^days_left=3;21;7 .* endpoints_not_live=1$/);
  });

  test('another certificate is a WARNING at least; an unreachable endpoint is CRITICAL', () => {
    const other: EndpointCheck = { endpoint: 'h.test:443', status: 'other', certificate: presented(90, 'cc') };
    assert.equal(pluginAnswer([checked('a.test', 80, [other])], NOW, T, true).state, 'WARNING');
    const down: EndpointCheck = { endpoint: 'h.test:443', status: 'unreachable', error: 'h.test:443: connect ECONNREFUSED' };
    const answer = pluginAnswer([checked('a.test', 80, [down, other])], NOW, T, true);
    assert.equal(answer.state, 'CRITICAL');
    assert.equal(answer.summary, 'a.test at h.test:443: unreachable: h.test:443: connect ECONNREFUSED');
  });

  test('a damaged lineage, no endpoint to check, no certificate: UNKNOWN; revoked is not counted; CRITICAL outranks UNKNOWN', () => {
    const damaged: CertificateCheck = { name: 'd.test', status: 'damaged', reason: 'renewal/d.test.json is damaged' };
    const revoked: CertificateCheck = { name: 'r.test', status: 'revoked', reason: 'revoked 2026-11-01 (superseded)' };
    assert.equal(pluginAnswer([damaged, checked('a.test', 80, [liveAt(80)])], NOW, T, true).state, 'UNKNOWN');
    assert.equal(pluginAnswer([checked('*.a.test', 80)], NOW, T, true).state, 'UNKNOWN');
    assert.equal(pluginAnswer([checked('*.a.test', 80)], NOW, T, false).state, 'OK', 'stored only: nothing to connect to');
    assert.equal(pluginAnswer([], NOW, T, true).state, 'UNKNOWN');
    assert.equal(pluginAnswer([revoked, checked('a.test', 80, [liveAt(80)])], NOW, T, true).state, 'OK');
    assert.equal(pluginAnswer([damaged, checked('a.test', -2)], NOW, T, false).state, 'CRITICAL');
  });

  test('the summary names the first three of the worst findings; details follow the status line, worst first', () => {
    const checks = ['a', 'b', 'c', 'd'].map((n) => checked(`${n}.test`, 2));
    const answer = pluginAnswer([checked('ok.test', 90), ...checks], NOW, T, false);
    assert.match(answer.summary, /^a\.test: expires in 2 days .*; c\.test: .* and 1 more$/);
    const lines = pluginLines(answer);
    assert.match(lines[0] ?? '', /^CERTMAN CRITICAL - a\.test.* \| days_left=2;21;7 certificates=5$/);
    assert.deepEqual(lines.slice(1).map((l) => l.split(':')[0]), ['CRITICAL', 'CRITICAL', 'CRITICAL', 'CRITICAL', 'OK']);
  });

  test('the status line stays one line without a stray |', () => {
    assert.equal(statusLine('UNKNOWN', 'a | b\nc'), 'CERTMAN UNKNOWN - a / b c');
  });
});

describe('plugin mode on the command line', () => {
  test('check with --expiry anywhere after it, global options before it', () => {
    assert.equal(isPluginMode(['check', '--expiry']), true);
    assert.equal(isPluginMode(['--config-dir', '/x', 'check', '--cert-name', 'a', '--expiry']), true);
    assert.equal(isPluginMode(['check']), false);
    assert.equal(isPluginMode(['renew', '--expiry']), false);
    assert.equal(isPluginMode(['--expiry', 'check']), false);
  });

  test('an error is UNKNOWN (3) with its status line, in --json too', () => {
    assert.deepEqual(pluginError('no certificate named x', 'see certman certificates', false), { stdout: 'CERTMAN UNKNOWN - no certificate named x\nhint: see certman certificates\n', exitCode: 3 });
    const answer = pluginError('bad', undefined, true);
    assert.equal(answer.exitCode, 3);
    assert.deepEqual(JSON.parse(answer.stdout), { state: 'UNKNOWN', summary: 'bad' });
  });
});

describe('endpoints in the metadata', () => {
  const meta = {
    name: 'a.test', domains: ['a.test'], key: { type: 'ecdsa', curve: 'p256' }, reuseKey: false, method: { kind: 'responder' },
    server: 'https://ca.test/dir', accountUrl: 'https://ca.test/acct/1', serial: 'ab', notBefore: NOW.toISOString(), notAfter: inDays(90),
  } as const;

  test('node-local: a shared store keeps none and uses none', () => {
    const fresh = { ...meta, endpoints: ['127.0.0.1:8443'] } as unknown as NewCertificate;
    assert.equal(withoutNodeLocal(fresh).endpoints, undefined);
    assert.deepEqual(endpointsOnThisNode(fresh, false), ['127.0.0.1:8443']);
    assert.equal(endpointsOnThisNode(fresh, true), undefined);
  });

  test('stored endpoints must each be host[:port]', () => {
    assert.equal(metaProblem({ ...meta, version: 1, endpoints: ['a.test', '[::1]:8443'] }, 'a.test'), undefined);
    assert.match(metaProblem({ ...meta, version: 1, endpoints: ['a.test', 'bad host\u001b[31m'] }, 'a.test') ?? '', /"endpoints" must be a list of host\[:port\]/);
    assert.match(metaProblem({ ...meta, version: 1, endpoints: 'a.test' }, 'a.test') ?? '', /"endpoints"/);
  });
});

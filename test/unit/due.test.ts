import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CertmanError, UsageError } from '../../src/errors.js';
import { DEFAULT_SPREAD_FRACTION, certificateStatus, daysLeft, duePolicy, renewalWindow, stableFraction } from '../../src/lineage/due.js';
import type { CertificateMeta } from '../../src/lineage/types.js';

const DAY = 24 * 60 * 60 * 1000;
const START = Date.parse('2025-01-01T00:00:00.000Z');
const at = (days: number): Date => new Date(START + days * DAY);
const iso = (days: number): string => at(days).toISOString();

/** A certificate valid from START for `lifetimeDays`. */
function cert(lifetimeDays: number, extra: Partial<CertificateMeta> = {}): CertificateMeta {
  return {
    name: 'example.com',
    domains: ['example.com'],
    key: { type: 'ecdsa', curve: 'p256' },
    reuseKey: false,
    method: { kind: 'webroot', webroot: '/var/www' },
    server: 'https://acme-v02.api.letsencrypt.org/directory',
    accountUrl: 'https://acme.example/acct/1',
    version: 1,
    serial: '01',
    notBefore: iso(0),
    notAfter: iso(lifetimeDays),
    ...extra,
  };
}

describe('renewalWindow', () => {
  it('90-day certificate: due with a third left (day 60)', () => {
    assert.deepEqual(renewalWindow(cert(90)), { dueAt: at(60), reason: 'lifetime' });
  });

  it('45-day certificate: due with a third left (day 30)', () => {
    assert.deepEqual(renewalWindow(cert(45)), { dueAt: at(30), reason: 'lifetime' });
  });

  it('6-day certificate: due with half left (day 3)', () => {
    assert.deepEqual(renewalWindow(cert(6)), { dueAt: at(3), reason: 'lifetime' });
  });

  it('10-day boundary: exactly 10 days uses half, just over uses a third', () => {
    assert.deepEqual(renewalWindow(cert(10)), { dueAt: at(5), reason: 'lifetime' });
    const justOver = { notBefore: iso(0), notAfter: new Date(START + 10 * DAY + 3000).toISOString() };
    assert.equal(renewalWindow(justOver).dueAt.getTime(), START + 10 * DAY + 3000 - (10 * DAY + 3000) / 3);
  });

  it('renewDays overrides the lifetime rule: due that many days before notAfter', () => {
    assert.deepEqual(renewalWindow(cert(90), { renewDays: 30 }), { dueAt: at(60), reason: 'days' });
    assert.deepEqual(renewalWindow(cert(90), { renewDays: 7 }), { dueAt: at(83), reason: 'days' });
    assert.deepEqual(renewalWindow(cert(6), { renewDays: 1.5 }), { dueAt: new Date(START + 4.5 * DAY), reason: 'days' });
    // Longer than the lifetime: due from the start.
    assert.deepEqual(renewalWindow(cert(6), { renewDays: 10 }), { dueAt: at(-4), reason: 'days' });
  });

  it('only needs notBefore and notAfter', () => {
    assert.deepEqual(renewalWindow({ notBefore: iso(0), notAfter: iso(90) }), { dueAt: at(60), reason: 'lifetime' });
  });

  it('rejects a bad renewDays and bad timestamps', () => {
    assert.throws(() => renewalWindow(cert(90), { renewDays: 0 }), UsageError);
    assert.throws(() => renewalWindow(cert(90), { renewDays: -1 }), UsageError);
    assert.throws(() => renewalWindow(cert(90), { renewDays: Number.NaN }), UsageError);
    assert.throws(() => renewalWindow({ notBefore: 'soon', notAfter: iso(90) }), CertmanError);
    assert.throws(() => renewalWindow({ notBefore: iso(0), notAfter: 'later' }), CertmanError);
  });
});

describe('certificateStatus', () => {
  it('valid before the window, due from dueAt on, expired from notAfter on', () => {
    const meta = cert(90);
    assert.equal(certificateStatus(meta, at(0)), 'valid');
    assert.equal(certificateStatus(meta, new Date(at(60).getTime() - 1)), 'valid');
    assert.equal(certificateStatus(meta, at(60)), 'due');
    assert.equal(certificateStatus(meta, new Date(at(90).getTime() - 1)), 'due');
    assert.equal(certificateStatus(meta, at(90)), 'expired');
    assert.equal(certificateStatus(meta, at(200)), 'expired');
  });

  it('revoked wins over everything', () => {
    const meta = cert(90, { revoked: { at: iso(1), reason: 'keyCompromise' } });
    assert.equal(certificateStatus(meta, at(2)), 'revoked');
    assert.equal(certificateStatus(meta, at(70)), 'revoked');
    assert.equal(certificateStatus(meta, at(100)), 'revoked');
  });

  it('expired wins over due', () => {
    assert.equal(certificateStatus(cert(90), at(95), { renewDays: 200 }), 'expired');
  });

  it('applies the renewDays argument', () => {
    assert.equal(certificateStatus(cert(90), at(70), { renewDays: 14 }), 'valid');
    assert.equal(certificateStatus(cert(90), at(76), { renewDays: 14 }), 'due');
  });

  it('duePolicy: --days beats the certificate\'s renewDays, which beats the configured default', () => {
    const meta = cert(90, { renewDays: 14 });
    assert.equal(certificateStatus(meta, at(70), duePolicy(meta, {})), 'valid');
    assert.equal(certificateStatus(meta, at(76), duePolicy(meta, { defaultDays: 40 })), 'due');
    assert.equal(certificateStatus(meta, at(70), duePolicy(meta, { days: 30 })), 'due');
    assert.equal(certificateStatus(meta, at(80), duePolicy(meta, { days: 5 })), 'valid');
    assert.equal(duePolicy(cert(90), { defaultDays: 40 }).renewDays, 40);
    assert.equal(duePolicy(cert(90), {}).spreadFraction, DEFAULT_SPREAD_FRACTION);
  });

  it('a stored or configured renewDays asks for at most two thirds of the lifetime; --days for one run for any', () => {
    const shortlived = cert(6);
    // Config renewDays 30 on a 6-day certificate: due two days in, not on every run.
    assert.equal(certificateStatus(shortlived, at(1.9), duePolicy(shortlived, { defaultDays: 30 })), 'valid');
    assert.equal(certificateStatus(shortlived, at(2), duePolicy(shortlived, { defaultDays: 30 })), 'due');
    assert.equal(certificateStatus(cert(6, { renewDays: 30 }), at(1.9), duePolicy(cert(6, { renewDays: 30 }), {})), 'valid');
    assert.equal(certificateStatus(shortlived, at(0.1), duePolicy(shortlived, { defaultDays: 30, days: 30 })), 'due');
    // Within two thirds nothing changes: 30 days on a 90-day certificate.
    assert.deepEqual(renewalWindow(cert(90), duePolicy(cert(90), { defaultDays: 30 })), { dueAt: at(60), reason: 'days' });
  });

  it('6-day certificates are due at half their lifetime', () => {
    assert.equal(certificateStatus(cert(6), at(2.9)), 'valid');
    assert.equal(certificateStatus(cert(6), at(3)), 'due');
  });
});

describe('daysLeft', () => {
  it('counts whole days, rounding down', () => {
    const meta = cert(90);
    assert.equal(daysLeft(meta, at(0)), 90);
    assert.equal(daysLeft(meta, at(0.5)), 89);
    assert.equal(daysLeft(meta, at(89.9)), 0);
  });

  it('is negative once expired', () => {
    const meta = cert(90);
    assert.equal(daysLeft(meta, at(90)), 0);
    assert.equal(daysLeft(meta, at(90.1)), -1);
    assert.equal(daysLeft(meta, at(95)), -5);
  });
});

describe('spread and ARI', () => {
  it('moves the lifetime rule earlier by a stable, name-dependent share of the spread', () => {
    const a = { ...cert(90), name: 'a.example' };
    const policy = { spreadFraction: 0.1 };
    const dueA = renewalWindow(a, policy).dueAt.getTime();
    assert.equal(renewalWindow(a, policy).dueAt.getTime(), dueA, 'stable');
    assert.ok(dueA <= at(60).getTime() && dueA > at(60).getTime() - 9 * DAY, 'within 10% of 90 days before the lifetime rule');
    assert.equal(at(60).getTime() - dueA, Math.round(stableFraction('a.example') * 0.1 * 90 * DAY));
    assert.equal(renewalWindow({ ...a, name: undefined }, policy).dueAt.getTime(), at(60).getTime(), 'no name, no spread');
  });

  it('spreads 5,000 certificates issued together over days', () => {
    const days = new Set<number>();
    for (let i = 0; i < 5000; i += 1) days.add(Math.floor(renewalWindow({ ...cert(90), name: `site-${i}.example` }, { spreadFraction: 0.1 }).dueAt.getTime() / DAY));
    assert.ok(days.size >= 9, `due dates fall on ${days.size} different days`);
  });

  it('an earlier ARI time wins, a later one does not', () => {
    const ari = (day: number) => ({ windowStart: iso(day), windowEnd: iso(day + 1), renewAt: iso(day), nextCheck: iso(day) });
    assert.deepEqual(renewalWindow({ ...cert(90), ari: ari(10) }), { dueAt: at(10), reason: 'ari' });
    assert.deepEqual(renewalWindow({ ...cert(90), ari: ari(80) }), { dueAt: at(60), reason: 'lifetime' });
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Exposition, escapeLabelValue, formatValue } from '../../src/metrics/format.js';
import { parseAttempts } from '../../src/renewal/attempts.js';
import { parseServedChecks } from '../../src/metrics/served.js';

describe('metrics exposition format', () => {
  it('escapes backslash, double quote and line feed in label values, and nothing else', () => {
    assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
    assert.equal(escapeLabelValue('xn--bcher-kva.example é\t'), 'xn--bcher-kva.example é\t');
    const text = new Exposition().family('m', 'gauge', 'help').sample('m', 1, { name: 'we"ird\\na\nme' }).text();
    assert.equal(text.split('\n')[2], 'm{name="we\\"ird\\\\na\\nme"} 1');
  });

  it('writes HELP and TYPE once per family, whatever the number of samples or declarations', () => {
    const out = new Exposition().family('a_total', 'counter', 'first\\line\nsecond').family('b', 'gauge', 'b');
    out.family('a_total', 'counter', 'first\\line\nsecond').sample('a_total', 2, { outcome: 'x' }).sample('b', 0.5).sample('a_total', 3, { outcome: 'y' });
    assert.equal(
      out.text(),
      ['# HELP a_total first\\\\line\\nsecond', '# TYPE a_total counter', 'a_total{outcome="x"} 2', 'a_total{outcome="y"} 3', '# HELP b b', '# TYPE b gauge', 'b 0.5', ''].join('\n'),
    );
  });

  it('keeps one sample per series and leaves empty label values out', () => {
    const text = new Exposition().family('m', 'gauge', 'h').sample('m', 1, { name: 'a', profile: '' }).sample('m', 2, { name: 'a' }).text();
    assert.deepEqual(text.trim().split('\n').slice(2), ['m{name="a"} 1']);
  });

  it('refuses invalid names and families declared twice differently, or samples of undeclared ones', () => {
    assert.throws(() => new Exposition().family('bad-name', 'gauge', 'h'));
    assert.throws(() => new Exposition().family('m', 'gauge', 'h').sample('m', 1, { 'bad-label': 'x' }));
    assert.throws(() => new Exposition().family('m', 'gauge', 'h').sample('m', 1, { __reserved: 'x' }));
    assert.throws(() => new Exposition().family('m', 'gauge', 'h').family('m', 'counter', 'h'));
    assert.throws(() => new Exposition().sample('m', 1));
  });

  it('spells non-finite values as Prometheus does', () => {
    assert.deepEqual([NaN, Infinity, -Infinity, 1796332090.155, 0].map(formatValue), ['NaN', '+Inf', '-Inf', '1796332090.155', '0']);
  });
});

describe('documents the metrics read', () => {
  it('keeps only well-formed renewal attempts', () => {
    const parsed = parseAttempts({ a: { at: '2026-01-01T00:00:00Z', result: 'success' }, b: { at: 'soon', result: 'failure' }, c: { at: '2026-01-01T00:00:00Z', result: 'maybe' }, d: 3 });
    assert.deepEqual([...parsed], [['a', { at: '2026-01-01T00:00:00.000Z', result: 'success' }]]);
    assert.equal(parseAttempts([1, 2]).size, 0);
  });

  it('keeps only well-formed served checks and endpoints', () => {
    const parsed = parseServedChecks({
      ok: { checkedAt: '2026-01-01T00:00:00Z', liveSerial: 'ab', endpoints: [{ endpoint: 'a:443', status: 'live', certificate: { notAfter: '2026-02-01T00:00:00Z' } }, { endpoint: 'b:443', status: 'broken' }, { status: 'live' }] },
      noTime: { liveSerial: 'ab', endpoints: [] },
      noList: { checkedAt: '2026-01-01T00:00:00Z', liveSerial: 'ab' },
    });
    assert.deepEqual([...parsed.keys()], ['ok']);
    assert.deepEqual(parsed.get('ok')?.endpoints, [{ endpoint: 'a:443', status: 'live', notAfter: '2026-02-01T00:00:00.000Z' }]);
  });
});

// The renewal timeline of `certificates --timeline`: each certificate's renewal time by renew's rule, the buckets
// it is counted in on known dates, and the chart drawn from them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stableFraction } from '../../src/lineage/due.js';
import type { CertificateMeta } from '../../src/lineage/types.js';
import { buildTimeline, plannedRenewal, timelineWindow, type PlannedRenewal } from '../../src/renewal/timeline.js';
import { summary, timelineChart } from '../../src/cli/timeline-chart.js';
import { newCert } from '../harness/store-fixtures.js';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const NOW = new Date('2026-12-03T12:30:00.000Z');
const at = (ms: number): Date => new Date(NOW.getTime() + ms);
const PLAIN = { ok: (s: string) => s, warn: (s: string) => s, bad: (s: string) => s, dim: (s: string) => s, bold: (s: string) => s };

/** A certificate valid from `notBefore` for `lifetimeDays`. */
function cert(name: string, notBefore: Date, lifetimeDays: number, extra: Partial<CertificateMeta> = {}): CertificateMeta {
  const notAfter = new Date(notBefore.getTime() + lifetimeDays * DAY).toISOString();
  return { ...newCert(name, { notBefore: notBefore.toISOString(), notAfter, ...extra }), version: 1 };
}

/** A renewal at `when`, due then by the lifetime rule with no spread unless said otherwise. */
function renewal(name: string, when: Date, extra: Partial<PlannedRenewal> = {}): PlannedRenewal {
  return { name, at: when, dueAt: when, reason: 'lifetime', unspreadDueAt: when, expired: false, ...extra };
}

describe('plannedRenewal: the time renew would renew at', () => {
  const issued = new Date('2026-11-01T00:00:00.000Z');

  it('the lifetime rule without spread: a third of 90 days left', () => {
    const planned = plannedRenewal(cert('a.test', issued, 90), { spreadFraction: 0 }, undefined, NOW);
    assert.deepEqual(planned.at, new Date('2026-12-31T00:00:00.000Z'));
    assert.equal(planned.reason, 'lifetime');
    assert.deepEqual(planned.unspreadDueAt, planned.dueAt);
    assert.equal(planned.deferredUntil, undefined);
  });

  it('with the default spread: earlier by the name\'s share of 10% of the lifetime; the time without it is kept', () => {
    const planned = plannedRenewal(cert('b.test', issued, 90), {}, undefined, NOW);
    const unspread = new Date('2026-12-31T00:00:00.000Z');
    assert.deepEqual(planned.unspreadDueAt, unspread);
    assert.equal(planned.dueAt.getTime(), Math.trunc(unspread.getTime() - stableFraction('b.test') * 0.1 * 90 * DAY));
  });

  it('renewDays (configured) replaces the rule: no spread to move it', () => {
    const planned = plannedRenewal(cert('c.test', issued, 90), { defaultDays: 20 }, undefined, NOW);
    assert.deepEqual(planned.at, new Date('2027-01-10T00:00:00.000Z'));
    assert.equal(planned.reason, 'days');
    assert.equal(planned.unspreadDueAt, undefined);
  });

  it('an earlier ARI time wins and is marked ari', () => {
    const renewAt = '2026-12-05T06:00:00.000Z';
    const ari = { windowStart: '2026-12-05T00:00:00.000Z', windowEnd: '2026-12-06T00:00:00.000Z', renewAt, nextCheck: '2026-12-04T00:00:00.000Z' };
    const planned = plannedRenewal(cert('d.test', issued, 90, { ari }), {}, undefined, NOW);
    assert.deepEqual(planned.at, new Date(renewAt));
    assert.equal(planned.reason, 'ari');
    assert.equal(planned.unspreadDueAt, undefined);
  });

  it('a deferral lasting past the due time moves it there; one ending before changes nothing', () => {
    const overdue = cert('e.test', new Date('2026-09-01T00:00:00.000Z'), 90); // due 2026-10-31: overdue now
    const held = plannedRenewal(overdue, { spreadFraction: 0 }, { reason: 'backoff', until: at(3 * HOUR) }, NOW);
    assert.deepEqual(held.at, at(3 * HOUR));
    assert.deepEqual(held.deferredUntil, at(3 * HOUR));
    const notYetDue = plannedRenewal(cert('f.test', issued, 90), { spreadFraction: 0 }, { reason: 'budget', until: at(HOUR) }, NOW);
    assert.equal(notYetDue.deferredUntil, undefined);
    assert.deepEqual(notYetDue.at, notYetDue.dueAt);
  });

  it('expired: past notAfter', () => {
    assert.equal(plannedRenewal(cert('g.test', new Date('2026-08-01T00:00:00.000Z'), 90), {}, undefined, NOW).expired, true);
    assert.equal(plannedRenewal(cert('h.test', issued, 90), {}, undefined, NOW).expired, false);
  });
});

describe('timelineWindow: days shown and bucket size', () => {
  it('30 days per day by default; 5 days per hour when every certificate lives 10 days or less', () => {
    assert.deepEqual(timelineWindow([90 * DAY, 6 * DAY]), { days: 30, bucket: 'day' });
    assert.deepEqual(timelineWindow([6 * DAY, 10 * DAY]), { days: 5, bucket: 'hour' });
    assert.deepEqual(timelineWindow([]), { days: 30, bucket: 'day' });
  });

  it('--days N: per hour up to 7 days, per day beyond', () => {
    assert.deepEqual(timelineWindow([90 * DAY], 3), { days: 3, bucket: 'hour' });
    assert.deepEqual(timelineWindow([90 * DAY], 7), { days: 7, bucket: 'hour' });
    assert.deepEqual(timelineWindow([6 * DAY], 8), { days: 8, bucket: 'day' });
  });
});

describe('buildTimeline: counting into UTC days or hours', () => {
  it('days: buckets from today\'s midnight, each renewal counted once where it lands, overdue, expired and later apart', () => {
    const t = buildTimeline(
      [
        renewal('today.test', at(2 * HOUR)), // 14:30 today
        renewal('tomorrow-1.test', at(DAY)),
        renewal('tomorrow-2.test', at(DAY - HOUR)),
        renewal('overdue.test', at(-HOUR)),
        renewal('expired.test', at(-DAY), { expired: true }),
        renewal('later.test', at(30 * DAY)),
        renewal('last.test', new Date('2027-01-01T23:59:59.000Z')),
      ],
      NOW,
      30,
      'day',
    );
    assert.equal(t.bucket, 'day');
    assert.equal(t.bucketMs, DAY);
    assert.deepEqual(t.from, new Date('2026-12-03T00:00:00.000Z'));
    assert.deepEqual(t.to, new Date('2027-01-02T00:00:00.000Z'));
    assert.equal(t.buckets.length, 30);
    assert.deepEqual(t.buckets[0]?.names, ['today.test']);
    assert.deepEqual(t.buckets[1]?.names, ['tomorrow-2.test', 'tomorrow-1.test'], 'in the order they come due');
    assert.deepEqual(t.buckets[29]?.names, ['last.test']);
    assert.deepEqual(t.overdue, { count: 1, names: ['overdue.test'] });
    assert.deepEqual(t.expired, { count: 1, names: ['expired.test'] });
    assert.deepEqual(t.later, { count: 1, names: ['later.test'] });
    assert.equal(t.total, 4);
    assert.deepEqual(t.peak?.start, new Date('2026-12-04T00:00:00.000Z'));
    assert.equal(t.peak?.count, 2);
  });

  it('moved by spread only when the time without it falls in another bucket; ARI and deferred counted as such', () => {
    const t = buildTimeline(
      [
        renewal('same-day.test', at(DAY), { unspreadDueAt: at(DAY + HOUR) }),
        renewal('spread.test', at(DAY), { unspreadDueAt: at(3 * DAY) }),
        renewal('ari.test', at(DAY), { reason: 'ari', unspreadDueAt: undefined }),
        renewal('deferred.test', at(DAY), { dueAt: at(-DAY), unspreadDueAt: at(3 * DAY), deferredUntil: at(DAY) }),
        renewal('days.test', at(DAY), { reason: 'days', unspreadDueAt: undefined }),
      ],
      NOW,
      30,
      'day',
    );
    const tomorrow = t.buckets[1];
    assert.equal(tomorrow?.count, 5);
    assert.equal(tomorrow?.movedBySpread, 1);
    assert.equal(tomorrow?.movedByAri, 1);
    assert.equal(tomorrow?.deferred, 1);
    assert.deepEqual([t.movedBySpread, t.movedByAri, t.deferred, t.total], [1, 1, 1, 5]);
  });

  it('hours: buckets from the current hour, 24 per day', () => {
    const t = buildTimeline([renewal('soon.test', at(10 * 60_000)), renewal('next.test', at(HOUR)), renewal('day2.test', at(47 * HOUR))], NOW, 2, 'hour');
    assert.equal(t.buckets.length, 48);
    assert.deepEqual(t.from, new Date('2026-12-03T12:00:00.000Z'));
    assert.deepEqual(t.buckets[0]?.names, ['soon.test']);
    assert.deepEqual(t.buckets[1]?.names, ['next.test']);
    assert.deepEqual(t.buckets[47]?.names, ['day2.test']);
    assert.equal(t.later.count, 0);
  });

  it('an empty window has no peak', () => {
    const t = buildTimeline([renewal('far.test', at(90 * DAY))], NOW, 30, 'day');
    assert.equal(t.peak, undefined);
    assert.equal(summary(t), 'no renewals due in the next 30 days');
  });
});

describe('timelineChart', () => {
  const sampleRenewals = [
    renewal('a.test', at(DAY)),
    renewal('b.test', at(DAY), { unspreadDueAt: at(2 * DAY) }),
    renewal('c.test', at(DAY), { reason: 'ari' }),
    renewal('d.test', at(DAY), { deferredUntil: at(DAY) }),
    renewal('e.test', at(2 * DAY)),
    renewal('overdue.test', at(-HOUR)),
  ];
  const sample = buildTimeline(sampleRenewals, NOW, 10, 'day');

  it('off a terminal: ASCII only, one row per day with its count and a bar of causes, then legend and summary', () => {
    const lines = timelineChart(sample, PLAIN, { unicode: false, width: 80 });
    assert.equal(lines[0], 'Renewals per day, 2026-12-03 to 2026-12-12 UTC, as renew would run them:');
    assert.ok(lines.includes('due now         1'));
    assert.ok(lines.includes('2026-12-03 Thu  0'));
    assert.ok(lines.includes('2026-12-04 Fri  4  #sad'));
    assert.ok(lines.includes('2026-12-05 Sat  1  #'));
    assert.ok(lines.includes('later           0'));
    assert.equal(lines.at(-1), 'peak 4 on 2026-12-04; 5 renewals in 10 days, 20% moved by spread; 1 by ARI; 1 deferred');
    assert.deepEqual(lines.slice(-3, -1), ['One mark per renewal: # due by its window, s moved here by the spread,', "a at the CA's ARI time, d deferred (CA budget or backoff)."]);
    for (const line of lines) assert.match(line, /^[\x20-\x7e]*$/, `not plain ASCII: ${line}`);
  });

  it('on a terminal: block characters', () => {
    const lines = timelineChart(sample, PLAIN, { unicode: true, width: 80 });
    assert.ok(lines.includes('2026-12-04 Fri  4  █▓▒░'));
  });

  it('with colours: ARI green, deferred yellow, spread dim; expired red and due now yellow', () => {
    const tag = (name: string) => (text: string) => `<${name}>${text}</${name}>`;
    const styles = { ok: tag('ok'), warn: tag('warn'), bad: tag('bad'), dim: tag('dim'), bold: tag('bold') };
    const withExpired = buildTimeline([renewal('gone.test', at(-DAY), { expired: true }), ...sampleRenewals], NOW, 10, 'day');
    const lines = timelineChart(withExpired, styles, { unicode: false, width: 80 });
    assert.ok(lines.includes('2026-12-04 Fri  4  #<dim>s</dim><ok>a</ok><warn>d</warn>'), lines.join('\n'));
    assert.ok(lines.includes('<bad>expired         1</bad>'));
    assert.ok(lines.includes('<warn>due now         1</warn>'));
  });

  it('a peak wider than the line is scaled, every cause still visible', () => {
    const many = Array.from({ length: 300 }, (_, i) => renewal(`n${i}.test`, at(DAY)));
    const t = buildTimeline([...many, renewal('ari.test', at(DAY), { reason: 'ari' })], NOW, 10, 'day');
    const lines = timelineChart(t, PLAIN, { unicode: false, width: 80 });
    const row = lines.find((line) => line.startsWith('2026-12-04')) ?? '';
    assert.ok(row.length <= 80, row);
    assert.match(row, /^2026-12-04 Fri {2}301 {2}#+a$/);
    assert.match(lines.at(-3) ?? '', /^One mark per \d+ renewals \(rounded\)/);
  });

  it('hourly: runs of empty hours fold into one line', () => {
    const t = buildTimeline([renewal('a.test', at(HOUR)), renewal('b.test', at(6 * HOUR))], NOW, 1, 'hour');
    const lines = timelineChart(t, PLAIN, { unicode: false, width: 80 });
    assert.equal(lines[0], 'Renewals per hour, 2026-12-03 12:00 to 2026-12-04 11:00 UTC, as renew would run them:');
    assert.deepEqual(lines.slice(1, 5), ['2026-12-03 12:00  0', '2026-12-03 13:00  1  #', '2026-12-03 14:00 .. 17:00  none for 4 hours', '2026-12-03 18:00  1  #']);
    assert.ok(lines.includes('2026-12-03 19:00 .. 2026-12-04 11:00  none for 17 hours'));
    assert.equal(lines.at(-1), 'peak 1 at 2026-12-03 13:00 UTC; 2 renewals in 1 day, 0% moved by spread; 0 by ARI');
  });
});

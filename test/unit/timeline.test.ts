// The renewal timeline of `certificates --timeline`: each certificate's renewal time by renew's rule, the buckets
// it is counted in on known dates, and the chart drawn from them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stableFraction } from '../../src/lineage/due.js';
import type { CertificateMeta } from '../../src/lineage/types.js';
import { buildTimeline, plannedRenewal, timelineWindow, type PlannedRenewal, type Timeline, type TimelineBucket } from '../../src/renewal/timeline.js';
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

/** A renewal at `when`, due then by the lifetime rule with no spread unless said otherwise; successors beyond the window. */
function renewal(name: string, when: Date, extra: Partial<PlannedRenewal> = {}): PlannedRenewal {
  return { name, at: when, dueAt: when, reason: 'lifetime', unspreadDueAt: when, expired: false, successorDueAfterMs: 400 * DAY, ...extra };
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

  it('due after now but deferred past that: renewed at the deferral\'s end, counted as deferred', () => {
    const dueSoon = cert('soon.test', new Date(at(HOUR).getTime() - 60 * DAY), 90); // due in an hour
    const held = plannedRenewal(dueSoon, { spreadFraction: 0 }, { reason: 'budget', until: at(3 * HOUR) }, NOW);
    assert.deepEqual(held.dueAt, at(HOUR));
    assert.deepEqual(held.at, at(3 * HOUR));
    assert.deepEqual(held.deferredUntil, at(3 * HOUR));
    const t = buildTimeline([held], NOW, 1, 'hour');
    assert.deepEqual([t.buckets[1]?.count, t.buckets[3]?.count, t.buckets[3]?.deferred], [0, 1, 1]);
  });

  it('a successor comes due after the same share of the same lifetime: spread by name, renewDays capped, no ARI', () => {
    const sixDays = plannedRenewal(cert('six.test', issued, 6), { spreadFraction: 0 }, undefined, NOW);
    assert.equal(sixDays.successorDueAfterMs, 3 * DAY);
    const spread = plannedRenewal(cert('spread.test', issued, 90), {}, undefined, NOW);
    assert.equal(spread.successorDueAfterMs, Math.trunc(60 * DAY - stableFraction('spread.test') * 0.1 * 90 * DAY));
    // A renewDays as long as the lifetime asks for at most two thirds of it, as renew does.
    assert.equal(plannedRenewal(cert('capped.test', issued, 6, { renewDays: 100 }), {}, undefined, NOW).successorDueAfterMs, 2 * DAY);
    assert.equal(plannedRenewal(cert('days.test', issued, 90), { defaultDays: 20 }, undefined, NOW).successorDueAfterMs, 70 * DAY);
    const ari = { windowStart: '2026-12-05T00:00:00.000Z', windowEnd: '2026-12-06T00:00:00.000Z', renewAt: '2026-12-05T06:00:00.000Z', nextCheck: '2026-12-04T00:00:00.000Z' };
    assert.equal(plannedRenewal(cert('ari.test', issued, 90, { ari }), { spreadFraction: 0 }, undefined, NOW).successorDueAfterMs, 60 * DAY);
    assert.ok(Number.isNaN(plannedRenewal(cert('zero.test', issued, 0), {}, undefined, NOW).successorDueAfterMs), 'no lifetime, no successor time');
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
    assert.deepEqual(summary(t), ['no renewals coming due in the next 30 days']);
  });
});

describe('buildTimeline: renewals of successors projected inside the window', () => {
  // Due an hour from now, no spread: successors every half (6 days) or two thirds (90 days) of the lifetime.
  const sixDays = (name: string) => plannedRenewal(cert(name, new Date(at(HOUR).getTime() - 3 * DAY), 6), { spreadFraction: 0 }, undefined, NOW);
  const ninetyDays = (name: string) => plannedRenewal(cert(name, new Date(at(HOUR).getTime() - 60 * DAY), 90), { spreadFraction: 0 }, undefined, NOW);
  const fleet = (make: (name: string) => PlannedRenewal) => ['a.test', 'b.test', 'c.test', 'd.test'].map(make);

  it('6-day certificates over 30 days: every 3 days, 10 renewals each instead of 1', () => {
    const t = buildTimeline(fleet(sixDays), NOW, 30, 'day');
    assert.deepEqual([t.total, t.projected], [40, 36]);
    assert.deepEqual(t.buckets[0], { start: new Date('2026-12-03T00:00:00.000Z'), count: 4, movedBySpread: 0, movedByAri: 0, deferred: 0, projected: 0, names: ['a.test', 'b.test', 'c.test', 'd.test'] });
    // 13:30 on days 3, 6, … 27 from today.
    for (let day = 3; day < 30; day += 1) assert.equal(t.buckets[day]?.projected, day % 3 === 0 ? 4 : 0, `day ${day}`);
    assert.deepEqual(t.notProjected, { count: 0, names: [] });
  });

  it('6-day certificates over 5 days per hour: the successor comes due in the hour 3 days on', () => {
    const t = buildTimeline(fleet(sixDays), NOW, 5, 'hour');
    assert.deepEqual([t.total, t.projected], [8, 4]);
    assert.deepEqual([t.buckets[1]?.count, t.buckets[1]?.projected], [4, 0]);
    assert.deepEqual([t.buckets[73]?.count, t.buckets[73]?.projected], [4, 4]);
  });

  it('90-day certificates over 366 days: every 60 days, 7 renewals each instead of 1', () => {
    const t = buildTimeline(fleet(ninetyDays), NOW, 366, 'day');
    assert.deepEqual([t.total, t.projected], [28, 24]);
    assert.deepEqual(t.buckets.flatMap((b, day) => (b.projected > 0 ? [day] : [])), [60, 120, 180, 240, 300, 360]);
  });

  it('overdue and expired ones are renewed by the next run: their successors count from now', () => {
    const t = buildTimeline([renewal('late.test', at(-HOUR), { successorDueAfterMs: 3 * DAY }), renewal('gone.test', at(-9 * DAY), { expired: true, successorDueAfterMs: 3 * DAY })], NOW, 7, 'hour');
    assert.deepEqual([t.overdue.count, t.expired.count, t.total, t.projected], [1, 1, 4, 4]);
    assert.equal(t.buckets[72]?.projected, 2);
    assert.equal(t.buckets[144]?.projected, 2);
  });

  it('a deferred one: its successor is issued when the deferral ends; one due past the window projects nothing', () => {
    const t = buildTimeline([renewal('held.test', at(2 * DAY), { dueAt: at(-DAY), deferredUntil: at(2 * DAY), successorDueAfterMs: 3 * DAY }), renewal('far.test', at(40 * DAY), { successorDueAfterMs: 3 * DAY })], NOW, 30, 'day');
    assert.deepEqual(t.buckets.flatMap((b, day) => (b.projected > 0 ? [day] : [])), [5, 8, 11, 14, 17, 20, 23, 26, 29]);
    assert.deepEqual(t.later, { count: 1, names: ['far.test'] });
  });

  it('a successor due within the hour of issuance (or never) is not projected, and the count ends', () => {
    const steps = [0, -DAY, HOUR - 1, Number.NaN];
    const t = buildTimeline(steps.map((step, i) => renewal(`every-run-${i}.test`, at(HOUR), { successorDueAfterMs: step })), NOW, 366, 'day');
    assert.deepEqual([t.total, t.projected], [4, 0]);
    assert.deepEqual(t.notProjected.names, ['every-run-0.test', 'every-run-1.test', 'every-run-2.test', 'every-run-3.test']);
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

  it('off a terminal: ASCII only, one row per day with its count and a bar of causes, empty days folded, then legend and summary', () => {
    const lines = timelineChart(sample, PLAIN, { unicode: false, width: 80 });
    assert.equal(lines[0], 'Renewals coming due per day, 2026-12-03 to 2026-12-12 UTC:');
    assert.ok(lines.includes('due now         1'));
    assert.ok(lines.includes('2026-12-03 Thu  0'));
    assert.ok(lines.includes('2026-12-04 Fri  4  #sad'));
    assert.ok(lines.includes('2026-12-05 Sat  1  #'));
    assert.ok(lines.includes('2026-12-06 Sun .. 2026-12-12 Sat  none for 7 days'));
    assert.ok(lines.includes('later           0'));
    assert.deepEqual(lines.slice(-4), [
      'One mark per renewal: # due by its window, s moved here by the spread,',
      "a at the CA's ARI time, d deferred (CA budget or backoff), p projected renewal.",
      'peak 4 on 2026-12-04; 5 renewals in 10 days',
      '+1 due now; 20% moved by spread; 1 by ARI; 1 deferred',
    ]);
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
    assert.ok(lines.some((line) => /^One mark per \d+ renewals \(rounded\)/.test(line)), lines.join('\n'));
  });

  it('fleet-sized counts (4 and 5 digits) keep every line within 80 columns, per hour and per day', () => {
    for (const [days, bucket] of [[5, 'hour'], [366, 'day']] as const) {
      const base = buildTimeline([renewal('x.test', at(HOUR))], NOW, days, bucket);
      const buckets = base.buckets.map((b, i) => (i % 4 === 0 ? b : { ...b, count: 12000 + i, movedBySpread: 6000, movedByAri: 3200, deferred: 2400, projected: 400 }));
      const peak = buckets[1] as TimelineBucket;
      const named = (count: number) => ({ count, names: [] });
      const big: Timeline = { ...base, buckets, peak, total: 99999, projected: 88888, movedBySpread: 5300, movedByAri: 3200, deferred: 2400, overdue: named(16000), expired: named(1234), later: named(54321) };
      for (const unicode of [false, true]) {
        const lines = timelineChart(big, PLAIN, { unicode, width: 80 });
        for (const line of lines) assert.ok(line.length <= 80, `${line.length} columns: ${line}`);
        assert.ok(lines.join(' ').endsWith('+16000 due now; +1234 expired; 48% of the 11111 not projected moved by spread; 3200 by ARI; 2400 deferred'), lines.join('\n'));
        assert.ok(lines.some((line) => line.startsWith(`peak ${peak.count} `) && line.endsWith('; 99999 renewals in ' + `${days} days (88888 projected)`)), lines.join('\n'));
      }
    }
  });

  it('hourly: runs of empty hours fold into one line', () => {
    const t = buildTimeline([renewal('a.test', at(HOUR)), renewal('b.test', at(6 * HOUR))], NOW, 1, 'hour');
    const lines = timelineChart(t, PLAIN, { unicode: false, width: 80 });
    assert.equal(lines[0], 'Renewals coming due per hour, 2026-12-03 12:00 to 2026-12-04 11:00 UTC:');
    assert.deepEqual(lines.slice(1, 5), ['2026-12-03 12:00  0', '2026-12-03 13:00  1  #', '2026-12-03 14:00 .. 17:00  none for 4 hours', '2026-12-03 18:00  1  #']);
    assert.ok(lines.includes('2026-12-03 19:00 .. 2026-12-04 11:00  none for 17 hours'));
    assert.deepEqual(lines.slice(-2), ['peak 1 at 2026-12-03 13:00 UTC; 2 renewals in 1 day', '0% moved by spread; 0 by ARI']);
  });
});

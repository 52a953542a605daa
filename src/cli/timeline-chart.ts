/**
 * Draws a renewal timeline (renewal/timeline.ts) as one line per bucket with a horizontal bar. Block characters
 * and colours only on a terminal; off it plain ASCII, which survives cron mail and log files.
 */
import type { Timeline, TimelineBucket } from '../renewal/timeline.js';
import { formatDate } from './format.js';
import type { Styles } from './output.js';

export interface ChartOptions {
  /** Block characters (a terminal) instead of ASCII. */
  unicode: boolean;
  /** Columns the lines may take. */
  width: number;
}

/** What put a renewal in its bucket, in the order its part of a bar is drawn. */
type Cause = 'due' | 'spread' | 'ari' | 'deferred';
const CAUSES: readonly Cause[] = ['due', 'spread', 'ari', 'deferred'];
const MARKS: Record<'ascii' | 'unicode', Record<Cause, string>> = {
  ascii: { due: '#', spread: 's', ari: 'a', deferred: 'd' },
  unicode: { due: '█', spread: '▓', ari: '▒', deferred: '░' },
};
/** Hourly charts fold a run of at least this many empty hours into one line. */
const FOLD_EMPTY_HOURS = 3;
const MIN_BAR = 10;

export function timelineChart(timeline: Timeline, s: Styles, options: ChartOptions): string[] {
  const marks = MARKS[options.unicode ? 'unicode' : 'ascii'];
  const paint: Record<Cause, (text: string) => string> = { due: (t) => t, spread: s.dim, ari: s.ok, deferred: s.warn };
  const hourly = timeline.bucket === 'hour';
  const labelWidth = hourly ? 'YYYY-MM-DD HH:00'.length : 'YYYY-MM-DD Www'.length;
  const counts = [timeline.overdue.count, timeline.expired.count, timeline.later.count, ...timeline.buckets.map((b) => b.count)];
  const countWidth = String(Math.max(...counts)).length;
  // Room for the bar after label and count; each drawn part may round up by one mark.
  const barWidth = Math.max(MIN_BAR, options.width - labelWidth - countWidth - 4 - CAUSES.length);
  const peak = timeline.peak?.count ?? 0;
  const perMark = peak <= barWidth ? 1 : Math.ceil(peak / barWidth);
  const row = (label: string, count: number, bar = '') => `${label.padEnd(labelWidth)}  ${String(count).padStart(countWidth)}  ${bar}`.trimEnd();
  const bar = (b: TimelineBucket) => {
    const parts: Record<Cause, number> = { due: b.count - b.movedBySpread - b.movedByAri - b.deferred, spread: b.movedBySpread, ari: b.movedByAri, deferred: b.deferred };
    return CAUSES.map((cause) => (parts[cause] === 0 ? '' : paint[cause](marks[cause].repeat(Math.max(1, Math.round(parts[cause] / perMark)))))).join('');
  };
  const last = timeline.buckets[timeline.buckets.length - 1];
  const lines = [`Renewals per ${timeline.bucket}, ${bucketLabel(timeline.buckets[0], hourly, true)} to ${bucketLabel(last, hourly, true)} UTC, as renew would run them:`];
  if (timeline.expired.count > 0) lines.push(s.bad(row('expired', timeline.expired.count)));
  if (timeline.overdue.count > 0) lines.push(s.warn(row('due now', timeline.overdue.count)));
  for (const group of hourly ? foldEmptyHours(timeline.buckets) : timeline.buckets.map((b) => [b])) {
    const [first, last] = [group[0] as TimelineBucket, group[group.length - 1] as TimelineBucket];
    if (group.length === 1) lines.push(row(bucketLabel(first, hourly), first.count, bar(first)));
    else {
      // The end's date only when the run crosses midnight.
      const [from, to] = [bucketLabel(first, hourly), bucketLabel(last, hourly)];
      lines.push(s.dim(`${from} .. ${to.slice(0, 10) === from.slice(0, 10) ? to.slice(11) : to}  none for ${group.length} hours`));
    }
  }
  lines.push(row('later', timeline.later.count));
  const legend = CAUSES.map((cause) => `${paint[cause](marks[cause])} ${LEGEND[cause]}`);
  // Two lines: cron mail and 80-column terminals keep them whole.
  lines.push('', `${perMark === 1 ? 'One mark per renewal' : `One mark per ${perMark} renewals (rounded)`}: ${legend.slice(0, 2).join(', ')},`, `${legend.slice(2).join(', ')}.`, summary(timeline));
  return lines;
}

/** The buckets one by one, but runs of FOLD_EMPTY_HOURS or more empty ones together. */
function foldEmptyHours(buckets: readonly TimelineBucket[]): TimelineBucket[][] {
  const groups: TimelineBucket[][] = [];
  let empty: TimelineBucket[] = [];
  const flush = () => {
    if (empty.length >= FOLD_EMPTY_HOURS) groups.push(empty);
    else groups.push(...empty.map((b) => [b]));
    empty = [];
  };
  for (const b of buckets) {
    if (b.count === 0) empty.push(b);
    else {
      flush();
      groups.push([b]);
    }
  }
  flush();
  return groups;
}

const LEGEND: Record<Cause, string> = {
  due: 'due by its window',
  spread: 'moved here by the spread',
  ari: "at the CA's ARI time",
  deferred: 'deferred (CA budget or backoff)',
};

/** "peak 12 on 2026-12-20; 40 renewals in 30 days, 35% moved by spread; 3 by ARI; 1 deferred". */
export function summary(timeline: Timeline): string {
  const days = Math.round((timeline.to.getTime() - timeline.from.getTime()) / 86_400_000);
  if (timeline.peak === undefined) return `no renewals due in the next ${plural(days, 'day')}`;
  const when = timeline.bucket === 'hour' ? `at ${formatDate(timeline.peak.start)}` : `on ${formatDate(timeline.peak.start).slice(0, 10)}`;
  const share = Math.round((100 * timeline.movedBySpread) / timeline.total);
  const deferred = timeline.deferred === 0 ? '' : `; ${timeline.deferred} deferred`;
  return `peak ${timeline.peak.count} ${when}; ${plural(timeline.total, 'renewal')} in ${plural(days, 'day')}, ${share}% moved by spread; ${timeline.movedByAri} by ARI${deferred}`;
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** "2026-12-04 13:00" or "2026-12-04 Fri" (without the weekday: `dateOnly`); "" for no bucket. */
function bucketLabel(b: TimelineBucket | undefined, hourly: boolean, dateOnly = false): string {
  if (b === undefined) return '';
  const iso = b.start.toISOString();
  if (hourly) return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
  return dateOnly ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${WEEKDAYS[b.start.getUTCDay()] ?? ''}`;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

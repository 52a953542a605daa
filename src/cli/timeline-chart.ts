/**
 * Draws a renewal timeline (renewal/timeline.ts) as one line per bucket with a horizontal bar. Block characters
 * and colours only on a terminal; off it plain ASCII, which survives cron mail and log files.
 */
import type { Timeline, TimelineBucket } from '../renewal/timeline.js';
import { formatDate, visibleLength } from './format.js';
import type { Styles } from './output.js';

export interface ChartOptions {
  /** Block characters (a terminal) instead of ASCII. */
  unicode: boolean;
  /** Columns the lines may take. */
  width: number;
}

/** What put a renewal in its bucket, in the order its part of a bar is drawn. */
type Cause = 'due' | 'spread' | 'ari' | 'deferred' | 'projected';
const CAUSES: readonly Cause[] = ['due', 'spread', 'ari', 'deferred', 'projected'];
const MARKS: Record<'ascii' | 'unicode', Record<Cause, string>> = {
  ascii: { due: '#', spread: 's', ari: 'a', deferred: 'd', projected: 'p' },
  unicode: { due: '█', spread: '▓', ari: '▒', deferred: '░', projected: '▫' },
};
const LEGEND: Record<Cause, string> = {
  due: 'due by its window',
  spread: 'moved here by the spread',
  ari: "at the CA's ARI time",
  deferred: 'deferred (CA budget or backoff)',
  projected: 'projected renewal',
};
/** A run of at least this many empty buckets is one line. */
const FOLD_EMPTY = 3;
const MIN_BAR = 10;

export function timelineChart(timeline: Timeline, s: Styles, options: ChartOptions): string[] {
  const marks = MARKS[options.unicode ? 'unicode' : 'ascii'];
  const paint: Record<Cause, (text: string) => string> = { due: (t) => t, spread: s.dim, ari: s.ok, deferred: s.warn, projected: s.dim };
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
    const due = b.count - b.movedBySpread - b.movedByAri - b.deferred - b.projected;
    const parts: Record<Cause, number> = { due, spread: b.movedBySpread, ari: b.movedByAri, deferred: b.deferred, projected: b.projected };
    return CAUSES.map((cause) => (parts[cause] === 0 ? '' : paint[cause](marks[cause].repeat(Math.max(1, Math.round(parts[cause] / perMark)))))).join('');
  };
  const label = (b: TimelineBucket) => bucketLabel(b, hourly);
  const first = timeline.buckets[0];
  const last = timeline.buckets[timeline.buckets.length - 1];
  const span = first === undefined || last === undefined ? '' : `, ${label(first).slice(0, hourly ? 16 : 10)} to ${hourly ? formatDate(last.start) : `${label(last).slice(0, 10)} UTC`}`;
  const lines = [`Renewals coming due per ${timeline.bucket}${span}:`];
  if (timeline.expired.count > 0) lines.push(s.bad(row('expired', timeline.expired.count)));
  if (timeline.overdue.count > 0) lines.push(s.warn(row('due now', timeline.overdue.count)));
  for (const group of foldEmpty(timeline.buckets)) {
    const [from, to] = [label(group[0] as TimelineBucket), label(group[group.length - 1] as TimelineBucket)];
    if (group.length === 1) lines.push(row(from, (group[0] as TimelineBucket).count, bar(group[0] as TimelineBucket)));
    // An hourly run names the end's date only when it crosses midnight.
    else if (hourly) lines.push(s.dim(`${from} .. ${to.slice(0, 10) === from.slice(0, 10) ? to.slice(11) : to}  none for ${group.length} hours`));
    else lines.push(s.dim(`${from} .. ${to}  none for ${group.length} days`));
  }
  lines.push(row('later', timeline.later.count));
  const scale = perMark === 1 ? 'One mark per renewal:' : `One mark per ${perMark} renewals (rounded):`;
  const legend = CAUSES.map((cause, i) => `${paint[cause](marks[cause])} ${LEGEND[cause]}${i === CAUSES.length - 1 ? '.' : ','}`);
  lines.push('', ...wrap([scale, ...legend], ' ', options.width), ...summary(timeline, options.width));
  return lines;
}

/** The buckets one by one, but runs of FOLD_EMPTY or more empty ones together. */
function foldEmpty(buckets: readonly TimelineBucket[]): TimelineBucket[][] {
  const groups: TimelineBucket[][] = [];
  let empty: TimelineBucket[] = [];
  const flush = () => {
    if (empty.length >= FOLD_EMPTY) groups.push(empty);
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

/**
 * Two lines, each wrapped at `width` should it still be longer (cron mail keeps 80 columns whole):
 * "peak 12 on 2026-12-20; 40 renewals in 30 days (8 projected)" and
 * "+2 due now; 44% of the 32 not projected moved by spread; 3 by ARI; 1 deferred".
 */
export function summary(timeline: Timeline, width = 80): string[] {
  const days = plural(timeline.days, 'day');
  const { peak, total } = timeline;
  const load =
    peak === undefined
      ? [`no renewals coming due in the next ${days}`]
      : [
          `peak ${peak.count} ${timeline.bucket === 'hour' ? `at ${formatDate(peak.start)}` : `on ${formatDate(peak.start).slice(0, 10)}`}`,
          `${plural(total, 'renewal')} in ${days}${timeline.projected === 0 ? '' : ` (${timeline.projected} projected)`}`,
        ];
  // The next run renews these too, though they come before the first bucket.
  const causes = [timeline.overdue.count > 0 ? `+${timeline.overdue.count} due now` : '', timeline.expired.count > 0 ? `+${timeline.expired.count} expired` : ''];
  // A share of the renewals due now-known dates (projected ones have no cause but the projection).
  const known = total - timeline.projected;
  const share = known === 0 ? 0 : Math.round((100 * timeline.movedBySpread) / known);
  if (peak !== undefined) causes.push(`${share}%${timeline.projected === 0 ? '' : ` of the ${known} not projected`} moved by spread`, `${timeline.movedByAri} by ARI`);
  if (timeline.deferred > 0) causes.push(`${timeline.deferred} deferred`);
  return [load, causes.filter((part) => part !== '')].flatMap((parts) => wrap(parts.map((part, i) => (i < parts.length - 1 ? `${part};` : part)), ' ', width));
}

/** `words` joined by `separator` into lines of at most `width` visible columns (a longer word keeps a line of its own). */
function wrap(words: readonly string[], separator: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of words) {
    const current = lines[lines.length - 1];
    if (current !== undefined && visibleLength(current) + separator.length + visibleLength(word) <= width) lines[lines.length - 1] = `${current}${separator}${word}`;
    else lines.push(word);
  }
  return lines;
}

/** A sentence wrapped at `width` between words. */
export function wrapText(text: string, width: number): string[] {
  return wrap(text.split(' '), ' ', width);
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** "2026-12-04 13:00" or "2026-12-04 Fri". */
function bucketLabel(b: TimelineBucket, hourly: boolean): string {
  const date = formatDate(b.start);
  return hourly ? date.slice(0, 16) : `${date.slice(0, 10)} ${WEEKDAYS[b.start.getUTCDay()] ?? ''}`;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

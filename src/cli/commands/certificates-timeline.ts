/** `certificates --timeline [--days N]`: how the coming renewals spread over days or hours (renewal/timeline.ts). */
import { UsageError } from '../../errors.js';
import type { CertificateMeta } from '../../lineage/types.js';
import type { NamedCount, Timeline } from '../../renewal/timeline.js';
import { budgetOptions } from '../budget-options.js';
import type { CliContext } from '../context.js';
import { dueOptions } from '../due-options.js';
import type { CommandResult } from '../result.js';

export interface TimelineOptions {
  timeline?: boolean;
  /** The window in days (not renew's --days: the due times keep the configured renewDays). */
  days?: number;
}

/** Off a terminal (cron mail, a pipe) the chart keeps to this width. */
const PLAIN_WIDTH = 80;

export async function certificatesTimeline(options: TimelineOptions, ctx: CliContext): Promise<CommandResult> {
  if (options.timeline !== true) throw new UsageError('--days sets the window of --timeline: give --timeline too');
  const [{ buildTimeline, plannedRenewal, timelineWindow }, { CaBudget }, { timelineChart, wrapText }] = await Promise.all([
    import('../../renewal/timeline.js'),
    import('../../renewal/ca-budget.js'),
    import('../timeline-chart.js'),
  ]);
  const store = await ctx.openStoreReadOnly();
  const metas = await store.list();
  const budget = await CaBudget.load(store, budgetOptions(ctx.settings), ctx.now);
  // Renew leaves revoked and unreadable lineages alone (list() has left the unreadable out), so they are no load: named apart.
  const damaged = store.problemDetails().map((p) => p.name);
  const revoked = metas.filter((meta) => meta.revoked !== undefined);
  const renewed = metas.filter((meta) => meta.revoked === undefined);
  const due = dueOptions(ctx.settings);
  const planned = renewed.map((meta) => plannedRenewal(meta, due, budget.certificateDeferral(meta, meta.server, meta.accountUrl, ctx.now), ctx.now));
  const window = timelineWindow(renewed.map(lifetimeMs), options.days);
  const timeline = buildTimeline(planned, ctx.now, window.days, window.bucket);
  const left = { revoked: named(revoked.map((meta) => meta.name)), damaged: named(damaged.sort()) };
  const unicode = process.stdout.isTTY === true && process.env.TERM !== 'dumb';
  const width = unicode ? (process.stdout.columns ?? PLAIN_WIDTH) : PLAIN_WIDTH;
  return {
    json: timelineJson(timeline, left),
    human: (s) => {
      // As `certificates` says it: an empty chart would hide a wrong --config-dir.
      if (metas.length === 0 && damaged.length === 0) return [`No certificates in ${store.location}.`];
      const apart = [left.revoked.count > 0 ? `${left.revoked.count} revoked` : '', left.damaged.count > 0 ? `${left.damaged.count} damaged` : ''].filter((part) => part !== '');
      const every = timeline.notProjected.count;
      const notes = [
        every === 0 ? '' : `${every} ${every === 1 ? 'certificate comes' : 'certificates come'} due again within an hour of renewal (renewalSpread): renewed on every run, not projected.`,
        apart.length === 0 ? '' : `Not counted (renew skips them): ${apart.join(', ')}; see certman certificates.`,
      ];
      return [...timelineChart(timeline, s, { unicode, width }), ...notes.filter((note) => note !== '').flatMap((note) => wrapText(note, width))];
    },
  };
}

function lifetimeMs(meta: CertificateMeta): number {
  return Date.parse(meta.notAfter) - Date.parse(meta.notBefore);
}

function named(names: string[]): NamedCount {
  return { count: names.length, names };
}

/** The `--json` document: ISO times, one object per bucket. */
function timelineJson(timeline: Timeline, left: { revoked: NamedCount; damaged: NamedCount }): unknown {
  return {
    bucket: timeline.bucket,
    bucketSeconds: timeline.bucketMs / 1000,
    days: timeline.days,
    from: timeline.from.toISOString(),
    to: timeline.to.toISOString(),
    buckets: timeline.buckets.map((b) => ({ ...b, start: b.start.toISOString() })),
    peak: timeline.peak === undefined ? null : { start: timeline.peak.start.toISOString(), count: timeline.peak.count },
    total: timeline.total,
    movedBySpread: timeline.movedBySpread,
    movedByAri: timeline.movedByAri,
    deferred: timeline.deferred,
    projected: timeline.projected,
    overdue: timeline.overdue,
    expired: timeline.expired,
    later: timeline.later,
    notProjected: timeline.notProjected,
    ...left,
  };
}

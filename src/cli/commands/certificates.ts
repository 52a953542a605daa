import type { Command } from 'commander';
import type { CertificateMeta } from '../../lineage/types.js';
import type { CliContext } from '../context.js';
import { budgetOptions } from '../budget-options.js';
import { dueOptions } from '../due-options.js';
import { formatDate, table } from '../format.js';
import { printableLine } from '../../text.js';
import type { Runner } from '../program.js';
import type { CommandResult } from '../result.js';
import type { Styles } from '../output.js';
import { failedTimes } from '../../renewal/backoff.js';
import { parseTimelineDays } from '../parse.js';
import type { TimelineOptions } from './certificates-timeline.js';

export function defineCertificates(program: Command, run: Runner): void {
  program
    .command('certificates')
    .alias('list')
    .description('list stored certificates with their expiry, due date and status, and what the CA budget defers')
    .option('--timeline', 'instead of the list, draw how many renewals come due per day (per hour for windows up to 7 days), marking what the spread, ARI windows and deferrals moved and which are projected successors')
    .option('--days <n>', 'with --timeline: days ahead to show, 1 to 366 (default 30; 5 when every certificate lives 10 days or less)', parseTimelineDays)
    .action(run(certificates));
}

async function certificates(options: TimelineOptions, ctx: CliContext): Promise<CommandResult> {
  if (options.timeline === true || options.days !== undefined) return (await import('./certificates-timeline.js')).certificatesTimeline(options, ctx);
  const { certificateOverview } = await import('../../renewal/overview.js');
  const { describeKeySpec } = await import('../../crypto/keys.js');
  const { CaBudget } = await import('../../renewal/ca-budget.js');
  // Listing only reads: a monitoring account that may read the store but not write it gets the same answer.
  const store = await ctx.openStoreReadOnly();
  const { deployerFor } = await import('../../deploy/index.js');
  const deployer = deployerFor(store, ctx.settings.configDir);
  const metas = await store.list();
  // What renew (or issue) on any node sharing the store would hold back now, from the documents they count in.
  const budget = await CaBudget.load(store, budgetOptions(ctx.settings), ctx.now);
  const problems = store.problemDetails();
  const damagedNames = new Set(problems.map((p) => p.name));
  const rows: Row[] = metas
    .filter((meta) => !damagedNames.has(meta.name))
    .map((meta: CertificateMeta): ListedRow => {
      const { daysLeft, dueAt, dueReason, status, deferred, backoff } = certificateOverview(meta, dueOptions(ctx.settings), budget, ctx.now);
      return {
        name: meta.name,
        domains: meta.domains,
        keyType: describeKeySpec(meta.key),
        profile: meta.profile ?? null,
        notAfter: meta.notAfter,
        daysLeft,
        dueAt: dueAt.toISOString(),
        dueReason,
        status,
        serial: meta.serial,
        server: meta.server,
        path: deployer.locate(meta.name).dir,
        ...(deferred === undefined ? {} : { deferredUntil: deferred.until.toISOString(), deferredReason: deferred.reason }),
        ...(backoff === undefined
          ? {}
          : { failedRenewals: backoff.failures, nextAttemptAt: backoff.nextAttempt, lastFailureAt: backoff.lastFailure, lastFailure: backoff.error }),
      };
    });
  // A lineage that cannot be read is a row of its own, never left out: renew would not renew it either.
  for (const problem of problems) rows.push({ name: problem.name, status: 'damaged', problem: problem.error.message });
  rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    json: rows,
    human: (s) => (rows.length === 0 ? [`No certificates in ${store.location}.`] : humanTable(rows, s, ctx.now)),
  };
}

interface ListedRow {
  name: string;
  domains: string[];
  keyType: string;
  /** The CA profile it was ordered with; null when none was named. */
  profile: string | null;
  notAfter: string;
  daysLeft: number;
  dueAt: string;
  dueReason: string;
  status: string;
  serial: string;
  server: string;
  path: string;
  /** Set while the CA budget (a rate-limit pause, failed validations, new orders) holds its renewal back: until when. */
  deferredUntil?: string;
  /** Why, in the words renew reports. */
  deferredReason?: string;
  /** Failed renewals in a row (cleared by a success), when there were any; see renewal/backoff.ts. */
  failedRenewals?: number;
  /** Before this time a plain renew does not try again. */
  nextAttemptAt?: string;
  lastFailureAt?: string;
  /** What the last failed renewal said. */
  lastFailure?: string;
}

/** A lineage whose metadata or files cannot be read: its name and why. */
interface DamagedRow {
  name: string;
  status: 'damaged';
  problem: string;
}

type Row = ListedRow | DamagedRow;

/** The table, then one line per damaged lineage saying what is wrong with it, and per deferred one until when and why. */
function humanTable(rows: Row[], s: Styles, now: Date): string[] {
  const cells = rows.map((r) =>
    'problem' in r
      ? [r.name, '-', '-', '-', '-', '-', '-', '-', paint(r.status, s)]
      : [r.name, r.domains.join(','), r.keyType, r.profile ?? '-', formatDate(r.notAfter), String(r.daysLeft), formatDate(r.dueAt), r.dueReason, paint(r.status, s)],
  );
  const notes = rows.map((r) => {
    if ('problem' in r) return `${s.bad('damaged')} ${r.name}: ${r.problem}`;
    return r.deferredUntil === undefined || r.deferredUntil === r.nextAttemptAt ? undefined : `${s.warn('deferred')} ${r.name} until ${formatDate(r.deferredUntil)}: ${printableLine(r.deferredReason ?? '')}`;
  });
  const lines = [...notes, ...rows.map((r) => ('failedRenewals' in r ? backoffNote(r, s, now) : undefined))].filter((note): note is string => note !== undefined);
  return [...table(['NAME', 'DOMAINS', 'KEY', 'PROFILE', 'EXPIRES', 'DAYS', 'DUE', 'WHY', 'STATUS'], cells), ...(lines.length === 0 ? [] : ['', ...lines])];
}

/** A certificate whose renewals failed: how often, when it is tried next, and the last error. */
function backoffNote(r: ListedRow, s: Styles, now: Date): string | undefined {
  if (r.failedRenewals === undefined || r.nextAttemptAt === undefined) return undefined;
  const next = Date.parse(r.nextAttemptAt) > now.getTime() ? `next attempt after ${formatDate(r.nextAttemptAt)}` : 'may be retried now';
  return `${s.warn('backoff')} ${r.name}: renewal failed ${failedTimes(r.failedRenewals)}, ${next} (last failure ${formatDate(r.lastFailureAt ?? r.nextAttemptAt)}: ${r.lastFailure ?? ''})`;
}

function paint(status: string, s: Styles): string {
  if (status === 'valid') return s.ok(status);
  if (status === 'due') return s.warn(status);
  return s.bad(status);
}

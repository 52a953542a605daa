/**
 * Everything that holds work back from a CA account, read from the state store every node of a fleet shares:
 * a rateLimited answer the CA gave (rate-limits.ts), certman's failed-validation budget per account and name
 * (budget.ts) and its new-order budget per account (order-budget.ts); and, per certificate, the backoff after
 * failed renewals (backoff.ts). One place answers "may these names be ordered with this account now, and if not,
 * until when and why", for renew, issue and `certificates`.
 */
import { BudgetDeferral, messageOf } from '../errors.js';
import type { Reporter } from '../report.js';
import type { StateStore } from '../store/types.js';
import { backoffReason, caTimeOf, clearBackoff, expiryWarning, RenewalBackoff, type BackedOff } from './backoff.js';
import { FailureBudget } from './budget.js';
import { OrderBudget } from './order-budget.js';
import { pausedReason, RateLimitRecords } from './rate-limits.js';

export interface CaBudgetOptions {
  /** Failed validations of a name by an account per hour before certman stops ordering it (default 3). */
  failedValidationLimit?: number;
  /** New orders per account per 3 hours (default 300). */
  newOrderLimit?: number;
}

/** Why work is held back, and until when. */
export interface Deferral {
  reason: string;
  until: Date;
}

export class CaBudget {
  private constructor(
    readonly failures: FailureBudget,
    readonly orders: OrderBudget,
    readonly rateLimits: RateLimitRecords,
    readonly backoff: RenewalBackoff,
  ) {}

  /** Reads the four documents; only reads (`certificates` opens the store read-only). */
  static async load(state: StateStore, options: CaBudgetOptions, now: Date): Promise<CaBudget> {
    const [failures, orders, rateLimits, backoff] = await Promise.all([
      FailureBudget.load(state, options.failedValidationLimit === undefined ? {} : { limit: options.failedValidationLimit }),
      OrderBudget.load(state, options.newOrderLimit === undefined ? {} : { limit: options.newOrderLimit }),
      RateLimitRecords.load(state, now),
      RenewalBackoff.load(state),
    ]);
    return new CaBudget(failures, orders, rateLimits, backoff);
  }

  /** Warnings for documents that were damaged and start afresh. */
  get problems(): string[] {
    const problems: [string, string | undefined][] = [
      ['failed-validation', this.failures.problem],
      ['new-order', this.orders.problem],
      ['rate-limit', this.rateLimits.problem],
      ['renewal-backoff', this.backoff.problem],
    ];
    return problems.filter((p): p is [string, string] => p[1] !== undefined).map(([what, problem]) => `${what} records were unreadable and start afresh: ${problem}`);
  }

  /** Why `names` may not be ordered with `account` of `server` at `now`, from what was read; undefined when they may. */
  deferral(server: string, account: string, names: readonly string[], now: Date): Deferral | undefined {
    const paused = this.rateLimits.pausedUntil(server, account, now);
    if (paused !== undefined) return { reason: pausedReason(paused), until: new Date(paused.until) };
    for (const name of names) {
      const until = this.failures.blockedUntil(account, name, now);
      if (until !== undefined) {
        const reason = `${name} failed validation ${this.failures.limit} times in the last hour; not asking the CA again before ${until.toISOString()}`;
        return { reason, until };
      }
    }
    const until = this.orders.blockedUntil(account, now);
    return until === undefined ? undefined : { reason: ordersSpent(account, this.orders.limit, until), until };
  }

  /**
   * What holds certificate `cert` (renewed with `account` of `server`) back at `now`: the account's
   * budget or, unless `ignoreBackoff` (renew --force, dry runs), its backoff after failed renewals; the one lasting longer.
   */
  certificateDeferral(cert: BackedOff & { domains: readonly string[] }, server: string, account: string | undefined, now: Date, ignoreBackoff = false): Deferral | undefined {
    const waiting = ignoreBackoff ? undefined : this.backoff.waiting(cert, now);
    const backoff = waiting === undefined ? undefined : { reason: backoffReason(waiting), until: new Date(waiting.nextAttempt) };
    const budget = account === undefined ? undefined : this.deferral(server, account, cert.domains, now);
    if (backoff === undefined || budget === undefined) return backoff ?? budget;
    return backoff.until > budget.until ? backoff : budget;
  }

  /**
   * Counts a failed renewal of `name` for its backoff, at the CA's time when `err` named a later one. A store that
   * cannot take it is a warning: the renewal's own failure is what the run reports.
   */
  async recordRenewalFailure(cert: BackedOff, err: unknown, now: Date, report: Pick<Reporter, 'warn'>): Promise<void> {
    try {
      const recorded = await this.backoff.recordFailure(cert.name, messageOf(err), now, caTimeOf(err, now));
      const nearExpiry = expiryWarning(cert, recorded);
      if (nearExpiry !== undefined) report.warn(nearExpiry);
    } catch (saveErr) {
      report.warn(`the failed renewal of ${cert.name} was not recorded: ${messageOf(saveErr)}`);
    }
  }

  /** Forgets the failed renewals of `name` after it was issued or renewed; a store that cannot is a warning. */
  async clearBackoff(name: string, report: Pick<Reporter, 'warn'>): Promise<void> {
    await clearBackoff(this.backoff, name, report);
  }

  /** As deferral(), thrown as a BudgetDeferral: the check before the pre-hook (takeOrder() decides at the order). */
  check(server: string, account: string, names: readonly string[], now: Date): void {
    const deferred = this.deferral(server, account, names, now);
    if (deferred !== undefined) throw new BudgetDeferral(deferred.reason, deferred.until);
  }

  /**
   * Saves the failed validations recorded (by issueCertificate) for every node to see; writes nothing when none
   * were. A store that cannot take them (a full disk) is a warning: they only spare the CA's limit, and must not
   * hide the outcome of the orders themselves.
   */
  async saveFailures(report: Pick<Reporter, 'warn'>): Promise<void> {
    if (!this.failures.unsaved) return;
    await this.failures.save().catch((err: unknown) => report.warn(`the failed-validation records were not saved: ${messageOf(err)}`));
  }

  /**
   * Counts one new order of `account` now, fleet-wide, as it is sent; throws BudgetDeferral when none is left.
   * A store that cannot take the count (a full disk) is a warning and the order goes: like the failure records,
   * the count only spares the CA's limit, which the CA enforces itself (and certman honours its rateLimited).
   */
  async takeOrder(account: string, now: Date, report: Pick<Reporter, 'warn'>): Promise<void> {
    let until: Date | undefined;
    try {
      until = await this.orders.take(account, now);
    } catch (err) {
      report.warn(`the new order was not counted: ${messageOf(err)}`);
      return;
    }
    if (until !== undefined) throw new BudgetDeferral(ordersSpent(account, this.orders.limit, until), until);
  }
}

function ordersSpent(account: string, limit: number, until: Date): string {
  return `account ${account} sent ${limit} new orders in the last 3 hours (config newOrderLimit); no new order before ${until.toISOString()}`;
}

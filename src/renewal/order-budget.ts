/**
 * New-order budget, per CA account: Let's Encrypt accepts 300 new orders per account per 3 hours. certman counts
 * every new order it sends (issue, renew, dry runs under their own account) as it is sent, successful or not, and
 * sends none past the limit (config `newOrderLimit`, default 300) until the oldest counted one leaves the window.
 *
 * Persisted in the state store under `new-orders` as { "<account URL>": ["<ISO time>", …] }, pruned to the window
 * on every update so it stays small. take() checks and counts in one atomic update of the store (updateState), so
 * nodes sharing a store never send more than the limit between them, however many run at once.
 * A damaged document is treated as empty and replaced by the next take(): like the failure budget it only
 * caches what was sent, and must not stop every order; {@link OrderBudget.problem} says why.
 */
import { CertmanError } from '../errors.js';
import { CorruptFileError } from '../store/index.js';
import type { StateStore } from '../store/types.js';
import { fullUntil, inWindow, parseTimes, pruneAll, toIso } from './window.js';

export const NEW_ORDERS_KEY = 'new-orders';
/** Let's Encrypt's published limit. */
export const DEFAULT_ORDER_LIMIT = 300;
export const DEFAULT_ORDER_WINDOW_MS = 3 * 60 * 60 * 1000;

export interface OrderBudgetOptions {
  /** New orders of one account within the window. Default 300. */
  limit?: number;
  /** Length of the sliding window in milliseconds. Default 3 hours. */
  windowMs?: number;
}

/** Stored shape: account URL → ISO times of its new orders. */
export type NewOrders = Record<string, string[]>;

/** Reads the stored document leniently: only lists of valid timestamps under an account count. */
export function parseOrders(value: unknown): Map<string, number[]> {
  const result = new Map<string, number[]>();
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return result;
  for (const [account, times] of Object.entries(value as Record<string, unknown>)) {
    const valid = parseTimes(times);
    if (account !== '' && valid.length > 0) result.set(account, valid);
  }
  return result;
}

/**
 * One more order of `account` at `now` into `orders` (already pruned), unless `limit` are in the window:
 * then the time the first one leaves it. The pure heart of take().
 */
export function countOrder(orders: Map<string, number[]>, account: string, now: number, limit: number, windowMs: number): Date | undefined {
  const times = orders.get(account) ?? [];
  const until = fullUntil(times, limit, windowMs, now);
  if (until === undefined) orders.set(account, [...inWindow(times, windowMs, now), now]);
  return until;
}

export class OrderBudget {
  readonly limit: number;
  readonly windowMs: number;

  private constructor(
    private readonly state: StateStore,
    /** The counts as last read or written, for the checks that do not write. */
    private orders: Map<string, number[]>,
    options: OrderBudgetOptions,
    /** Why the stored document was ignored (it was damaged), for a warning; else undefined. */
    readonly problem: string | undefined,
  ) {
    this.limit = options.limit ?? DEFAULT_ORDER_LIMIT;
    this.windowMs = options.windowMs ?? DEFAULT_ORDER_WINDOW_MS;
    if (!Number.isSafeInteger(this.limit) || this.limit < 1) throw new CertmanError(`invalid new-order limit ${this.limit}`);
    if (!Number.isFinite(this.windowMs) || this.windowMs <= 0) throw new CertmanError(`invalid new-order window ${this.windowMs} ms`);
  }

  /** Reads the stored counts (only reads: `certificates` uses it on a read-only store). */
  static async load(state: StateStore, options: OrderBudgetOptions = {}): Promise<OrderBudget> {
    try {
      return new OrderBudget(state, parseOrders(await state.getState<unknown>(NEW_ORDERS_KEY)), options, undefined);
    } catch (err) {
      if (!(err instanceof CorruptFileError)) throw err;
      return new OrderBudget(state, new Map(), options, err.message);
    }
  }

  /** From the counts last read: when `account` may send a new order again, or undefined when it may now. */
  blockedUntil(account: string, now: Date): Date | undefined {
    return fullUntil(this.orders.get(account) ?? [], this.limit, this.windowMs, now.getTime());
  }

  /** From the counts last read: the new orders of `account` within the window ending at `now` (for `certman metrics`). */
  usedBy(account: string, now: Date): number {
    return inWindow(this.orders.get(account) ?? [], this.windowMs, now.getTime()).length;
  }

  /**
   * Counts one new order of `account` at `now`, in one update of the stored document with every node's counts:
   * undefined when it was counted (send it), else the time the account may order again (counted nothing).
   */
  async take(account: string, now: Date): Promise<Date | undefined> {
    let until: Date | undefined;
    await this.state.updateState<unknown>(NEW_ORDERS_KEY, (current) => {
      const orders = pruneAll(parseOrders(current), this.windowMs, now.getTime());
      until = countOrder(orders, account, now.getTime(), this.limit, this.windowMs);
      this.orders = orders;
      const doc: NewOrders = {};
      for (const key of [...orders.keys()].sort()) doc[key] = (orders.get(key) ?? []).map(toIso);
      return doc;
    });
    return until;
  }
}

/** The exposition of a store, as `certman metrics` prints it and `serve-challenge --metrics-address` serves it. */
import type { CertificateStore, StateStore } from '../store/types.js';
import { storeMetrics, type StoreMetricsOptions } from './certificates.js';
import { Exposition } from './format.js';
import { infoMetrics } from './info.js';

const READ_SUCCESS = 'certman_store_read_success';
const READ_SUCCESS_HELP = '1 when the store could be read for these metrics, 0 when it could not (then only the build info and responder metrics follow).';

/** Build info, the store's metrics, and that reading it worked. Throws what the store threw. */
export async function storeText(store: CertificateStore & StateStore, options: StoreMetricsOptions, version: string): Promise<string> {
  const out = new Exposition();
  infoMetrics(out, version, options.now);
  await storeMetrics(out, store, options);
  return out.family(READ_SUCCESS, 'gauge', READ_SUCCESS_HELP).sample(READ_SUCCESS, 1).text();
}

/** What a scrape gets when the store cannot be read: build info and the failure, so an alert can fire. */
export function storeFailedText(version: string, now: Date): string {
  const out = new Exposition();
  infoMetrics(out, version, now);
  return out.family(READ_SUCCESS, 'gauge', READ_SUCCESS_HELP).sample(READ_SUCCESS, 0).text();
}

/**
 * A text computed at most once per `ttlMs`, however often it is asked for: scrapers sharing one computation
 * cannot make the responder hammer its store. Concurrent callers share the computation in flight.
 */
export class CachedText {
  private last: { text: string; at: number } | undefined;
  private inFlight: Promise<string> | undefined;

  constructor(
    private readonly compute: () => Promise<string>,
    private readonly ttlMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  get(): Promise<string> {
    if (this.last !== undefined && this.clock() - this.last.at < this.ttlMs) return Promise.resolve(this.last.text);
    this.inFlight ??= this.compute()
      .then((text) => {
        this.last = { text, at: this.clock() };
        return text;
      })
      .finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }
}

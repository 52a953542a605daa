/**
 * `certman sync --watch`: a first full pass, then the lineages the store's change feed names as they change, one
 * pass at a time. Pub/sub tells nothing sent while the feed was down, so a feed that comes back (Redis restarted,
 * a failover) brings a full pass; so does a timer (`fullPassEveryMs`), the safety net for anything missed some
 * other way. While the store is unreachable the files here stay as they are.
 */
import { CertmanError } from '../errors.js';
import { syncAll, syncOne, type Selection, type SyncDeps, type SyncResult } from './sync.js';

export type WatchEvent =
  | { kind: 'result'; result: SyncResult }
  /** The change feed lost its connection: nothing is synced until it is back. Once per outage. */
  | { kind: 'down'; error: unknown }
  /** It is back: a full pass follows. */
  | { kind: 'up' }
  /** A pass could not read the store; retried. Once per run of failures. */
  | { kind: 'pass-failed'; error: unknown };

export interface WatchOptions {
  selection: Selection;
  fullPassEveryMs: number;
  /** Ends the watch (SIGTERM, SIGINT). */
  signal: AbortSignal;
  onEvent: (event: WatchEvent) => void;
}

export interface WatchSummary {
  passes: number;
  copied: number;
  failed: number;
}

/** After a pass that could not read the store, the next full pass is tried this much later. */
const RETRY_MS = 2000;

export async function watchAndSync(options: WatchOptions, deps: SyncDeps): Promise<WatchSummary> {
  const { store } = deps;
  if (store.watch === undefined) throw new CertmanError(`the store ${store.location} tells no changes: run certman sync from cron instead`);
  const summary: WatchSummary = { passes: 0, copied: 0, failed: 0 };
  const wanted = (name: string) => options.selection.length === 0 || options.selection.includes(name);
  let everything = true;
  // While the feed is down its one warning says it all: passes that fail meanwhile add none.
  let feedDown = false;
  let failing = false;
  const names = new Set<string>();
  let wake: () => void = () => undefined;
  const request = (name?: string) => {
    if (name === undefined) everything = true;
    else if (wanted(name)) names.add(name);
    wake();
  };
  const feed = await store.watch(
    (name) => request(name),
    (state) => {
      feedDown = state.state === 'down';
      if (state.state === 'down') {
        options.onEvent({ kind: 'down', error: state.error });
      } else {
        failing = false;
        options.onEvent({ kind: 'up' });
        request();
      }
    },
  );
  const timer = setInterval(() => request(), options.fullPassEveryMs);
  let retry: NodeJS.Timeout | undefined;
  // A lineage gone from the store is told once, not again by every full pass.
  const toldGone = new Set<string>();
  const report = (result: SyncResult) => {
    if (result.status === 'gone') {
      if (toldGone.has(result.name)) return;
      toldGone.add(result.name);
    } else {
      toldGone.delete(result.name);
    }
    if (result.status === 'copied') summary.copied += 1;
    if (result.status === 'failed') summary.failed += 1;
    options.onEvent({ kind: 'result', result });
  };
  try {
    while (!options.signal.aborted) {
      if (!everything && names.size === 0) {
        await new Promise<void>((resolve) => {
          const done = () => {
            options.signal.removeEventListener('abort', done);
            wake = () => undefined;
            resolve();
          };
          wake = done;
          options.signal.addEventListener('abort', done, { once: true });
        });
        continue;
      }
      const full = everything;
      const batch = [...names];
      everything = false;
      names.clear();
      try {
        if (full) {
          for (const result of await syncAll(options.selection, deps, false)) if (result.status !== 'unchanged') report(result);
        } else {
          for (const name of batch) {
            const result = await syncOne(name, deps);
            if (result !== undefined && result.status !== 'unchanged') report(result);
          }
        }
        summary.passes += 1;
        failing = false;
      } catch (err) {
        // The store did not answer (or a named certificate left it): what was asked is asked again, in full.
        if (!failing && !feedDown) options.onEvent({ kind: 'pass-failed', error: err });
        failing = true;
        clearTimeout(retry);
        retry = setTimeout(() => request(), RETRY_MS);
      }
    }
  } finally {
    clearInterval(timer);
    clearTimeout(retry);
    await feed.close();
  }
  return summary;
}

/**
 * Ctrl-C during `certman issue`: the run stops, withdraws every token it published (webroot files,
 * the standalone server, token-store entries), leaves the store as it was and exits 130.
 * (`renew` only uses the signal: its core stops gracefully, see RenewDeps.signal.)
 *
 * The core has no cancellation of its own, so the issue command wraps what it hands the core:
 * - `race()` ends a wait at once when the interrupt comes, after the cleanup below;
 * - `responders()` tracks every lease, waits for publishes in flight and closes them all;
 * - `store()` refuses to save once cancelled; a save already under way is finished, and from then
 *   on the run is committed (the certificate exists) and a late Ctrl-C is ignored;
 * - `reporter()` throws at the order's next step, so the abandoned order never asks the CA to
 *   validate a token that was just withdrawn.
 */
import { ResponderPool, type ResponderPoolOptions } from '../challenge/pool.js';
import type { Http01Responder } from '../challenge/types.js';
import { CertmanError, ExitCode } from '../errors.js';
import type { Reporter } from '../report.js';
import type { CertificateStore } from '../store/types.js';
import type { ChallengeMethod } from '../lineage/types.js';

/** The error a cancelled run ends with: `error: cancelled`, exit 130 (as at a prompt). */
export function cancelledError(): CertmanError {
  return new CertmanError('cancelled', { exitCode: ExitCode.INTERRUPTED });
}

export function isCancelled(err: unknown): boolean {
  return err instanceof CertmanError && err.exitCode === ExitCode.INTERRUPTED;
}

export class Interrupt {
  private readonly controller = new AbortController();
  private readonly closers = new Set<() => Promise<void>>();
  private committed = false;
  private readonly onSignal = () => this.fire();

  private constructor(private readonly signals: readonly NodeJS.Signals[]) {}

  /** Listens for the signals until dispose(). A second one is not caught: it ends the process at once. */
  static listen(signals: readonly NodeJS.Signals[] = ['SIGINT']): Interrupt {
    const interrupt = new Interrupt(signals);
    for (const signal of signals) process.once(signal, interrupt.onSignal);
    return interrupt;
  }

  /** Aborted on Ctrl-C; prompts given it stop with AbortPromptError. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  dispose(): void {
    for (const signal of this.signals) process.removeListener(signal, this.onSignal);
  }

  /** Ctrl-C: cancel, unless the certificate is already being saved (then the run finishes). */
  private fire(): void {
    this.dispose();
    if (this.committed || this.signal.aborted) return;
    this.controller.abort(cancelledError());
  }

  throwIfCancelled(): void {
    if (this.signal.aborted) throw cancelledError();
  }

  /**
   * Settles like `work`, unless Ctrl-C comes first: then every responder is closed and it rejects
   * with cancelledError(). `work` is abandoned; its later outcome is ignored.
   */
  race<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        void this.cleanUp().then(() => reject(cancelledError()));
      };
      if (this.signal.aborted) {
        work.catch(() => undefined);
        onAbort();
        return;
      }
      this.signal.addEventListener('abort', onAbort, { once: true });
      work.then(
        (value) => {
          if (this.signal.aborted) return;
          this.signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (err: unknown) => {
          if (this.signal.aborted) return;
          this.signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      );
    });
  }

  /** A pool whose leases are withdrawn and closed when the run is cancelled. */
  responders(options: ResponderPoolOptions): ResponderPool {
    return new CancellablePool(options, this, this.closers);
  }

  /** The store the order saves to: no save after Ctrl-C, and no Ctrl-C once a save has begun. */
  store(store: CertificateStore): CertificateStore {
    return {
      names: () => store.names(),
      list: () => store.list(),
      problemDetails: () => store.problemDetails(),
      get: (name) => store.get(name),
      readFiles: (name) => store.readFiles(name),
      save: async (meta, files, guard) => {
        this.throwIfCancelled();
        this.committed = true;
        return store.save(meta, files, guard);
      },
      updateMeta: async (name, update) => {
        this.throwIfCancelled();
        return store.updateMeta(name, update);
      },
      delete: async (name, guard) => {
        this.throwIfCancelled();
        return store.delete(name, guard);
      },
    };
  }

  /** Passes steps on, and stops the abandoned order at its next step. */
  reporter(inner: Reporter): Reporter {
    return {
      step: (message) => {
        this.throwIfCancelled();
        inner.step(message);
      },
      warn: (message) => inner.warn(message),
      debug: (message) => inner.debug(message),
    };
  }

  private async cleanUp(): Promise<void> {
    await Promise.allSettled([...this.closers].map((close) => close()));
  }
}

class CancellablePool extends ResponderPool {
  constructor(
    options: ResponderPoolOptions,
    private readonly interrupt: Interrupt,
    private readonly closers: Set<() => Promise<void>>,
  ) {
    super(options);
  }

  override async acquire(method: ChallengeMethod): Promise<Http01Responder> {
    this.interrupt.throwIfCancelled();
    const lease = this.guard(await super.acquire(method));
    if (this.interrupt.signal.aborted) {
      // Opened (a port bound, a folder checked) while Ctrl-C was being handled.
      await lease.close();
      throw cancelledError();
    }
    return lease;
  }

  /**
   * Wraps a lease so that closing it waits for its publishes and withdrawals in flight (a token file
   * being written must be removed too) and so that the order's own `finally` and the cancellation
   * share one close.
   */
  private guard(lease: Http01Responder): Http01Responder {
    const inFlight = new Set<Promise<unknown>>();
    const track = (operation: Promise<void>): Promise<void> => {
      inFlight.add(operation);
      const done = () => inFlight.delete(operation);
      operation.then(done, done);
      return operation;
    };
    let closing: Promise<void> | undefined;
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        await Promise.allSettled([...inFlight]);
        await lease.close();
        this.closers.delete(close);
      })());
    this.closers.add(close);
    return {
      publish: async (domain, token, keyAuthorization) => {
        this.interrupt.throwIfCancelled();
        return track(lease.publish(domain, token, keyAuthorization));
      },
      unpublish: (token) => track(lease.unpublish(token)),
      close,
    };
  }
}

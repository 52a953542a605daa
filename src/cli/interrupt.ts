/**
 * Ctrl-C or SIGTERM during `issue` or `renew`: one AbortSignal for the run. The core cancels itself
 * from it (waits end, published tokens are withdrawn, a save before its commit point is refused,
 * one past it finishes), and prompts given it stop. The run then ends with cancelledError(): exit 130.
 */
import { CertmanError, ExitCode } from '../errors.js';

/** The error a cancelled run ends with: `error: cancelled`, exit 130 (as at a prompt). */
export function cancelledError(): CertmanError {
  return new CertmanError('cancelled', { exitCode: ExitCode.INTERRUPTED });
}

export function isCancelled(err: unknown): boolean {
  return err instanceof CertmanError && err.exitCode === ExitCode.INTERRUPTED;
}

export class Interrupt {
  private readonly controller = new AbortController();
  private readonly onSignal = () => this.fire();

  private constructor(private readonly signals: readonly NodeJS.Signals[]) {}

  /** Listens for the signals until dispose(). A second one is not caught: it ends the process at once. */
  static listen(signals: readonly NodeJS.Signals[] = ['SIGINT']): Interrupt {
    const interrupt = new Interrupt(signals);
    for (const signal of signals) process.once(signal, interrupt.onSignal);
    return interrupt;
  }

  /** Aborted, with cancelledError() as its reason, on the first signal. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  dispose(): void {
    for (const signal of this.signals) process.removeListener(signal, this.onSignal);
  }

  private fire(): void {
    this.dispose();
    this.controller.abort(cancelledError());
  }

  /**
   * Settles like `work`, unless the signal fires first: then it rejects with the signal's reason and `work`
   * is abandoned. Only for waits that cannot take the signal themselves (a DNS lookup, prompts and
   * registration): each caller says why abandoning its work is safe.
   */
  race<T>(work: Promise<T>): Promise<T> {
    const { signal } = this;
    if (signal.aborted) {
      work.catch(() => undefined);
      return Promise.reject(signal.reason as Error);
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }
}

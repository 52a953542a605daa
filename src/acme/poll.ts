import { setTimeout as delay } from 'node:timers/promises';
import { withAbortReason } from '../abort.js';
import { NetworkError } from '../errors.js';

export interface PollOptions {
  /** What is being waited for, for the timeout message ("authorization for a.example"). */
  what: string;
  timeoutMs: number;
  /** First delay; grows ×1.5 up to maxDelayMs. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Ends the wait between two fetches at once, rejecting with the signal's reason (Ctrl-C). */
  signal?: AbortSignal;
}

/**
 * Re-fetches a resource until `settled` says so. The server's Retry-After wins over our backoff
 * (RFC 8555 §7.5.1); without one we start quick because most CAs validate within a second.
 */
export async function pollUntil<T>(
  fetch: () => Promise<{ body: T; retryAfterMs: number | undefined }>,
  settled: (body: T) => boolean,
  options: PollOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let delayMs = options.initialDelayMs ?? 100;
  const maxDelay = options.maxDelayMs ?? 2000;
  for (;;) {
    options.signal?.throwIfAborted();
    const { body, retryAfterMs } = await fetch();
    if (settled(body)) return body;
    const wait = retryAfterMs ?? delayMs;
    if (Date.now() + wait > deadline) {
      throw new NetworkError(`gave up waiting for the ${options.what} after ${Math.round(options.timeoutMs / 1000)} s`, {
        hint: 'the CA is slow or stuck; run the command again later',
      });
    }
    await delay(wait, undefined, options.signal === undefined ? {} : { signal: options.signal }).catch(withAbortReason(options.signal));
    delayMs = Math.min(Math.round(delayMs * 1.5), maxDelay);
  }
}

import { NetworkError } from '../errors.js';
import { sleep } from './http-policy.js';

export interface PollOptions {
  /** What is being waited for, for the timeout message ("authorization for a.example"). */
  what: string;
  timeoutMs: number;
  /** First delay; grows ×1.5 up to maxDelayMs. */
  initialDelayMs?: number;
  maxDelayMs?: number;
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
  let delay = options.initialDelayMs ?? 100;
  const maxDelay = options.maxDelayMs ?? 2000;
  for (;;) {
    const { body, retryAfterMs } = await fetch();
    if (settled(body)) return body;
    const wait = retryAfterMs ?? delay;
    if (Date.now() + wait > deadline) {
      throw new NetworkError(`gave up waiting for the ${options.what} after ${Math.round(options.timeoutMs / 1000)} s`, {
        hint: 'the CA is slow or stuck; run the command again later',
      });
    }
    await sleep(wait);
    delay = Math.min(Math.round(delay * 1.5), maxDelay);
  }
}

/**
 * rateLimited answers (RFC 8555 §6.7): how long certman leaves the CA account alone afterwards.
 */
import { AcmeProblemError } from '../errors.js';

export const RATE_LIMITED = 'urn:ietf:params:acme:error:rateLimited';
/** When a rateLimited answer names no time (Let's Encrypt always sends Retry-After): an hour. */
export const DEFAULT_RATE_LIMIT_PAUSE_MS = 60 * 60 * 1000;
/** A longer Retry-After counts as a week, so a wrong header cannot stop renewals for good. */
export const MAX_RATE_LIMIT_PAUSE_MS = 7 * 24 * 60 * 60 * 1000;

export function isRateLimited(err: unknown): err is AcmeProblemError {
  return err instanceof AcmeProblemError && err.type === RATE_LIMITED;
}

/** The time the CA asked to be left alone until, kept between `now` and a week from now. */
export function rateLimitedUntil(err: AcmeProblemError, now: Date): Date {
  const start = now.getTime();
  const asked = err.retryAfter?.getTime() ?? start + DEFAULT_RATE_LIMIT_PAUSE_MS;
  return new Date(Math.min(Math.max(asked, start), start + MAX_RATE_LIMIT_PAUSE_MS));
}

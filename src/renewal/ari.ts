/**
 * ARI (RFC 9773) as renewal sees it: pick a time inside the CA's window, keep it while the window stays
 * the same, and ask the CA again no sooner than it says.
 */
import type { AcmeClient } from '../acme/client.js';
import { ariCertId, type RenewalInfo } from '../acme/ari.js';
import type { AriState, CertificateMeta } from '../lineage/types.js';

/** When the CA sends no Retry-After (RFC 9773 §4.3 suggests a few hours). */
export const DEFAULT_ARI_CHECK_MS = 6 * 60 * 60 * 1000;
/** Bounds on the CA's Retry-After: never hammer it, never go a day without asking. */
export const MIN_ARI_CHECK_MS = 60 * 1000;
export const MAX_ARI_CHECK_MS = 24 * 60 * 60 * 1000;

/** A uniformly random time in [start, end) (RFC 9773 §4.2: spread renewals over the window). */
export function pickRenewalTime(window: { start: Date; end: Date }, random: () => number = Math.random): Date {
  const start = window.start.getTime();
  const span = window.end.getTime() - start;
  if (!(span > 0)) return new Date(start);
  const r = random();
  const fraction = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0;
  // floor keeps the result below `end` even for fraction 1 - ε on a short span; clamp guards fraction 1.
  return new Date(start + Math.min(Math.floor(fraction * span), span - 1));
}

/**
 * The state to store after the CA answered: the picked time survives an unchanged window and is chosen
 * afresh when the window moved; the next check is the CA's Retry-After (6 h without one), kept within
 * [1 min, 24 h].
 */
export function nextAriState(
  previous: AriState | undefined,
  fetched: RenewalInfo,
  now: Date,
  random: () => number = Math.random,
): AriState {
  const windowStart = fetched.window.start.toISOString();
  const windowEnd = fetched.window.end.toISOString();
  const unchanged =
    previous !== undefined &&
    previous.windowStart === windowStart &&
    previous.windowEnd === windowEnd &&
    !Number.isNaN(Date.parse(previous.renewAt));
  const renewAt = unchanged ? previous.renewAt : pickRenewalTime(fetched.window, random).toISOString();
  const waitMs = Math.min(Math.max(fetched.retryAfterMs ?? DEFAULT_ARI_CHECK_MS, MIN_ARI_CHECK_MS), MAX_ARI_CHECK_MS);
  return {
    windowStart,
    windowEnd,
    renewAt,
    nextCheck: new Date(now.getTime() + waitMs).toISOString(),
    ...(fetched.explanationUrl === undefined ? {} : { explanationUrl: fetched.explanationUrl }),
  };
}

/**
 * Asks the CA for the certificate's renewal window when it is time to.
 * - The CA offers no ARI: undefined (no state to keep).
 * - The last answer's Retry-After has not passed: `meta.ari` as it is, without a request.
 * - Otherwise the new state. Errors propagate; the caller decides whether they are only warnings.
 */
export async function refreshAri(
  meta: CertificateMeta,
  certPem: string,
  client: AcmeClient,
  now: Date,
): Promise<AriState | undefined> {
  if ((await client.renewalInfoUrl()) === undefined) return undefined;
  const nextCheck = meta.ari === undefined ? Number.NaN : Date.parse(meta.ari.nextCheck);
  if (meta.ari !== undefined && nextCheck > now.getTime()) return meta.ari;
  const fetched = await client.getRenewalInfo(await ariCertId(certPem));
  return nextAriState(meta.ari, fetched, now);
}

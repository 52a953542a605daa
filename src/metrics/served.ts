/**
 * The served-vs-live part of the metrics, from the last check of each certificate's endpoints (state key
 * `served-check`, written by `certman check` and `--verify-deploy`). Any fleet member writes that document, so it
 * is read leniently: entries that are not well formed are left out, never fail the scrape.
 */
import { SERVED_CHECK_KEY, SERVED_STATUSES, type ServedStatus } from '../served/types.js';
import { CorruptFileError } from '../store/index.js';
import { isRecord } from '../store/json.js';
import type { StateStore } from '../store/types.js';
import { epochSeconds, type Exposition } from './format.js';

/** What the metrics use of one stored ServedCheck. */
export interface ServedSummary {
  checkedAt: string;
  liveSerial: string;
  endpoints: { endpoint: string; status: ServedStatus; notAfter?: string }[];
}

/** The stored checks by certificate name; a damaged or missing document reads as none. */
export async function loadServedChecks(state: StateStore): Promise<Map<string, ServedSummary>> {
  let stored: unknown;
  try {
    stored = await state.getState<unknown>(SERVED_CHECK_KEY);
  } catch (err) {
    if (!(err instanceof CorruptFileError)) throw err;
  }
  return parseServedChecks(stored);
}

export function parseServedChecks(value: unknown): Map<string, ServedSummary> {
  const checks = new Map<string, ServedSummary>();
  if (!isRecord(value)) return checks;
  for (const [name, raw] of Object.entries(value)) {
    if (!isRecord(raw) || !Array.isArray(raw.endpoints) || typeof raw.liveSerial !== 'string') continue;
    const checkedAt = timeOf(raw.checkedAt);
    if (checkedAt === undefined) continue;
    const endpoints: ServedSummary['endpoints'] = [];
    for (const e of raw.endpoints as unknown[]) {
      if (!isRecord(e) || typeof e.endpoint !== 'string' || !SERVED_STATUSES.includes(e.status as ServedStatus)) continue;
      const notAfter = isRecord(e.certificate) ? timeOf(e.certificate.notAfter) : undefined;
      endpoints.push({ endpoint: e.endpoint, status: e.status as ServedStatus, ...(notAfter === undefined ? {} : { notAfter }) });
    }
    checks.set(name, { checkedAt, liveSerial: raw.liveSerial, endpoints });
  }
  return checks;
}

function timeOf(value: unknown): string | undefined {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

/** Declares the served families (so they are listed even before any check ran). */
export function declareServed(out: Exposition): void {
  out.declare('gauge', [
    ['certman_certificate_served', 'What an endpoint served at the last check, as a state set: 1 for the status it had (live, older, other, unreachable), 0 for the others.'],
    ['certman_certificate_served_expiry_timestamp_seconds', 'Expiry (notAfter) of the certificate an endpoint served at the last check, in seconds since the epoch.'],
    ['certman_certificate_served_check_timestamp_seconds', 'When the last check of the certificate\'s endpoints finished, in seconds since the epoch.'],
    ['certman_certificate_served_check_stale', '1 when the certificate was renewed since its last check (the check saw another live serial), so its served statuses are out of date; else 0.'],
  ]);
}

/** The samples of certificate `name`, whose live serial is `liveSerial`, from its last check. */
export function servedSamples(out: Exposition, name: string, liveSerial: string, check: ServedSummary): void {
  out.sample('certman_certificate_served_check_timestamp_seconds', epochSeconds(check.checkedAt), { name });
  out.sample('certman_certificate_served_check_stale', check.liveSerial === liveSerial ? 0 : 1, { name });
  for (const e of check.endpoints) {
    for (const status of SERVED_STATUSES) out.sample('certman_certificate_served', e.status === status ? 1 : 0, { name, endpoint: e.endpoint, status });
    if (e.notAfter !== undefined) out.sample('certman_certificate_served_expiry_timestamp_seconds', epochSeconds(e.notAfter), { name, endpoint: e.endpoint });
  }
}

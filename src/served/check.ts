/**
 * Checks what a certificate's endpoints serve, and keeps the last answer of each certificate in the state store
 * (SERVED_CHECK_KEY) for `certman metrics`.
 */
import { messageOf } from '../errors.js';
import { mapLimit } from '../concurrency.js';
import { isRecord } from '../store/json.js';
import type { StateStore } from '../store/types.js';
import { printableLine } from '../text.js';
import { classifyPresented, type KnownVersion } from './classify.js';
import { formatEndpoint, presentedCertificate } from './probe.js';
import { SERVED_CHECK_KEY, type Endpoint, type EndpointCheck, type ServedCheck } from './types.js';

/** How long one endpoint may take to finish its handshake. */
export const DEFAULT_PROBE_TIMEOUT_MS = 10_000;
/** Endpoints checked at once: enough for a long list, few enough for a small web server. */
const PROBES_AT_ONCE = 8;

export interface CheckOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** What each endpoint serves, against the lineage's stored versions (`live` is `liveVersion`). */
export async function checkEndpoints(
  endpoints: readonly Endpoint[],
  lineage: { liveVersion: number; versions: readonly KnownVersion[] },
  options: CheckOptions = {},
): Promise<EndpointCheck[]> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  return mapLimit(endpoints, PROBES_AT_ONCE, async (endpoint): Promise<EndpointCheck> => {
    const where = { endpoint: formatEndpoint(endpoint), ...(endpoint.servername === undefined ? {} : { servername: endpoint.servername }) };
    try {
      const certificate = await presentedCertificate(endpoint, { timeoutMs, ...(options.signal === undefined ? {} : { signal: options.signal }) });
      return { ...where, ...classifyPresented(certificate, lineage.liveVersion, lineage.versions), certificate };
    } catch (err) {
      return { ...where, status: 'unreachable', error: printableLine(messageOf(err)) };
    }
  });
}

/** Keeps `check` as the last one of certificate `name`, next to the others'. */
export async function recordServedCheck(state: StateStore, name: string, check: ServedCheck): Promise<void> {
  // A damaged document only loses old answers: each check writes its own again.
  await state.updateState<unknown>(SERVED_CHECK_KEY, (current) => ({ ...(isRecord(current) ? current : {}), [name]: check }));
}

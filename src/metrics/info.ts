/** What every exposition starts with: which certman wrote it, and when (a textfile that stops changing is stale). */
import { epochSeconds, type Exposition } from './format.js';

export function infoMetrics(out: Exposition, version: string, now: Date): void {
  out
    .family('certman_build_info', 'gauge', 'The certman version that wrote these metrics (always 1).')
    .sample('certman_build_info', 1, { version })
    .family('certman_metrics_generated_timestamp_seconds', 'gauge', 'When these metrics were computed, in seconds since the epoch.')
    .sample('certman_metrics_generated_timestamp_seconds', epochSeconds(now));
}

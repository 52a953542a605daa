/** serve-challenge's own counters as metrics families, next to the store's on `--metrics-address`. */
import { Exposition } from '../../metrics/format.js';
import type { TokenStore } from '../../store/types.js';
import type { ChallengeServer } from './server.js';

/** The responder's counters since it started. */
export function responderText(server: ChallengeServer): string {
  const stats = server.stats();
  const out = new Exposition().declare('counter', [
    ['certman_challenge_requests_total', 'HTTP requests serve-challenge received, by what became of them (answered, unknown_token, not_found, redirected, proxied, bad_request, method_not_allowed, too_many_pipelined, store_error, abandoned).'],
    ['certman_challenge_client_errors_total', 'Requests the HTTP parser refused (bad syntax, oversized headers, timeouts): answered 400, 408 or 431, or the connection closed.'],
    ['certman_challenge_connections_dropped_total', 'Connections closed on arrival because --max-connections were open.'],
    ['certman_challenge_pipeline_overflows_total', 'Connections that pipelined more requests than allowed to wait (answered 429 from then on).'],
    ['certman_challenge_store_errors_total', 'Token store reads that failed or did not answer in time.'],
  ]);
  for (const [outcome, count] of Object.entries(server.outcomes())) out.sample('certman_challenge_requests_total', count, { outcome });
  out.sample('certman_challenge_client_errors_total', stats.clientErrors);
  out.sample('certman_challenge_connections_dropped_total', stats.dropped);
  out.sample('certman_challenge_pipeline_overflows_total', stats.pipelineOverflows);
  out.sample('certman_challenge_store_errors_total', stats.storeErrors);
  out.family('certman_challenge_tokens_remembered', 'gauge', 'Challenge tokens the responder remembers from the store: found in the last second, or kept until they expire for when a network store fails.');
  out.sample('certman_challenge_tokens_remembered', server.tokensRemembered);
  return out.text();
}

/** The tokens pending in the store (read from it: cached with the store's metrics); nothing when it cannot tell. */
export async function pendingTokensText(tokens: TokenStore): Promise<string> {
  if (tokens.pendingCount === undefined) return '';
  const count = await tokens.pendingCount();
  return new Exposition()
    .family('certman_challenge_tokens_pending', 'gauge', 'HTTP-01 tokens pending in the store now: published by an order in progress and not yet withdrawn or expired.')
    .sample('certman_challenge_tokens_pending', count)
    .text();
}

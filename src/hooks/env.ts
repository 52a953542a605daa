/**
 * The environment hooks receive, with certbot's variable names so existing hook scripts keep working.
 * Values are plain strings; names are the ASCII (punycode) DNS names certman stores.
 */

/**
 * Environment of a deploy hook, run once per certificate that was just issued or renewed:
 *
 * - `RENEWED_LINEAGE`: the certificate's live folder, e.g. `/etc/certman/live/example.com`
 *   (holds cert.pem, chain.pem, fullchain.pem, privkey.pem).
 * - `RENEWED_DOMAINS`: the certificate's DNS names, separated by single spaces,
 *   e.g. `example.com www.example.com`.
 */
export function deployHookEnv(lineagePath: string, domains: string[]): Record<string, string> {
  return {
    RENEWED_LINEAGE: lineagePath,
    RENEWED_DOMAINS: domains.join(' '),
  };
}

/**
 * Environment of a post hook, run once after all certificates of a run were attempted:
 *
 * - `RENEWED_DOMAINS`: DNS names of every certificate renewed in this run, space-separated
 *   (empty when none was).
 * - `FAILED_DOMAINS`: DNS names of every certificate whose renewal failed in this run,
 *   space-separated (empty when none did).
 */
export function postHookEnv(renewed: string[], failed: string[]): Record<string, string> {
  return {
    RENEWED_DOMAINS: renewed.join(' '),
    FAILED_DOMAINS: failed.join(' '),
  };
}

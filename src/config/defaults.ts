/**
 * Built-in defaults: where certman keeps its state and which ACME servers have short names.
 */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { UsageError } from '../errors.js';

/** Short names accepted wherever an ACME directory URL is expected (`--server`, config, env). */
export const SERVER_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  letsencrypt: 'https://acme-v02.api.letsencrypt.org/directory',
  'letsencrypt-staging': 'https://acme-staging-v02.api.letsencrypt.org/directory',
  zerossl: 'https://acme.zerossl.com/v2/DV90',
});

/** Let's Encrypt's staging CA: `--test-cert` without config dryRunServer, and the dry runs of Let's Encrypt lineages. */
export const LETSENCRYPT_STAGING = SERVER_ALIASES['letsencrypt-staging'] as string;

/** Production CAs with a staging CA of their own (directory URLs, normalized). */
const STAGING_PAIRS: readonly (readonly [string, string])[] = [
  [SERVER_ALIASES['letsencrypt'] as string, LETSENCRYPT_STAGING],
  ['https://api.buypass.com/acme/directory', 'https://api.test4.buypass.com/acme/directory'],
  ['https://dv.acme-v02.api.pki.goog/directory', 'https://dv.acme-v02.test-api.pki.goog/directory'],
];

/**
 * The staging CA that belongs to a CA, for `renew --dry-run`: a production CA and its staging CA both dry-run at
 * staging. ZeroSSL has no staging CA; other CAs are unknown (config dryRunServer, else the CA itself).
 */
const STAGING_OF: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(STAGING_PAIRS.flatMap(([production, staging]) => [[production, staging], [staging, staging]])),
);

/**
 * Where `renew --dry-run` orders for a lineage of `server` (both normalized URLs): the staging CA known to
 * belong to it, else `configured` (config dryRunServer, CERTMAN_DRY_RUN_SERVER), else the lineage's own CA.
 */
export function dryRunServerFor(server: string, configured: string | undefined): string {
  return (Object.hasOwn(STAGING_OF, server) ? STAGING_OF[server] : undefined) ?? configured ?? server;
}

/**
 * Whether a dry run at `dryRunServer` (from dryRunServerFor) for a lineage of `server` gets a real certificate:
 * no staging CA was at hand, so it orders at a production CA itself, counted by that CA's rate limits.
 */
export function dryRunIsReal(server: string, dryRunServer: string): boolean {
  return dryRunServer === server && STAGING_OF[server] !== server;
}

/** The alias used when no server is configured anywhere. */
export const DEFAULT_SERVER_ALIAS = 'letsencrypt';

/** The ACME directory URL used when no server is configured anywhere. */
export const DEFAULT_SERVER = 'https://acme-v02.api.letsencrypt.org/directory';

/**
 * Where certificates, accounts and (by default) the config file live.
 * Root: `/etc/certman`. Others: `$XDG_CONFIG_HOME/certman` when XDG_CONFIG_HOME is an absolute
 * path (the XDG spec says to ignore relative ones), else `$HOME/.config/certman`
 * (falling back to the OS home directory when HOME is unset or empty).
 */
export function defaultConfigDir(env: Record<string, string | undefined>, isRoot: boolean): string {
  if (isRoot) return '/etc/certman';
  const xdg = env['XDG_CONFIG_HOME'];
  if (xdg !== undefined && xdg !== '' && isAbsolute(xdg)) return join(xdg, 'certman');
  const home = env['HOME'];
  return join(home !== undefined && home !== '' ? home : homedir(), '.config', 'certman');
}

const SERVER_EXPECTATION = `expected an absolute http(s) ACME directory URL or one of the aliases ${Object.keys(SERVER_ALIASES).join(', ')}`;

/**
 * Why `value` is not usable as an ACME server, or undefined when it is.
 * Shared by resolveServer and the config-file validator so both say the same thing.
 */
export function serverProblem(value: string): string | undefined {
  return tryResolveServer(value) === undefined ? SERVER_EXPECTATION : undefined;
}

/**
 * Expands an alias (case-insensitive, surrounding blanks ignored) or checks that `value`
 * is an absolute http(s) URL. Returns the URL in WHATWG-normalized form (lowercase scheme
 * and host, `/` path for a bare origin) so the same server always compares equal.
 */
export function resolveServer(value: string): string {
  const resolved = tryResolveServer(value);
  if (resolved === undefined) {
    throw new UsageError(
      `invalid ACME server ${JSON.stringify(value)}: ${SERVER_EXPECTATION}`,
      'pass a directory URL such as https://acme.example/directory, or an alias like letsencrypt-staging',
    );
  }
  return resolved;
}

function tryResolveServer(value: string): string | undefined {
  const trimmed = value.trim();
  const key = trimmed.toLowerCase();
  if (Object.hasOwn(SERVER_ALIASES, key)) return SERVER_ALIASES[key];
  // Only absolute URLs: the WHATWG parser would otherwise accept "https:host" as "https://host/".
  if (!/^https?:\/\//i.test(trimmed)) return undefined;
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.hostname === '') return undefined;
  return url.href;
}

/** How long `--verify-deploy` waits for the endpoints to serve a new certificate unless told (seconds). */
export const DEFAULT_VERIFY_DEPLOY_SECONDS = 30;

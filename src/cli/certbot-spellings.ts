/**
 * certbot's spellings of certman options, so a certbot user's cron lines and scripts keep working. Each is the
 * same thing under certbot's name (shown in --help next to certman's), never a second behaviour.
 */
import { Option, type Command } from 'commander';
import { DEFAULT_SERVER, dryRunServerFor, LETSENCRYPT_STAGING } from '../config/defaults.js';
import type { Settings } from '../config/types.js';
import { UsageError } from '../errors.js';

export interface CertbotHookFlags {
  deployHook?: string;
  renewHook?: string;
}

/** `--force-renewal` (= --force) and `--renew-hook` (certbot's old name of --deploy-hook): issue and renew. */
export function addCertbotRenewalSpellings(command: Command): Command {
  return command
    .addOption(new Option('--force-renewal', "certbot's spelling of --force").implies({ force: true }))
    .option('--renew-hook <cmd>', "certbot's old name of --deploy-hook");
}

/** `--preferred-challenges http,dns`: fine as long as HTTP-01 is among them, the only type certman answers. */
export function parsePreferredChallenges(value: string): true {
  const types = value.split(',').map((t) => t.trim().toLowerCase());
  if (types.some((t) => t === 'http' || t === 'http-01')) return true;
  throw new UsageError(`--preferred-challenges ${value}: certman answers HTTP-01 challenges only`, 'include http, or leave the flag out');
}

/** The deploy hook from --deploy-hook or --renew-hook; both with different commands is a usage error. */
export function deployHookOf(flags: CertbotHookFlags): string | undefined {
  const { deployHook, renewHook } = flags;
  if (deployHook !== undefined && renewHook !== undefined && deployHook !== renewHook) {
    throw new UsageError('--deploy-hook and --renew-hook are one hook (--renew-hook is its old name): give it once');
  }
  return deployHook ?? renewHook;
}

/**
 * The server of `--test-cert`/`--staging`: config dryRunServer, else the known staging CA of the configured server
 * (Buypass, Google Trust Services), else Let's Encrypt staging. As in certbot, a server chosen elsewhere (flag,
 * environment or config file) that is neither the default production CA, nor that staging CA, nor the production
 * CA it belongs to conflicts with it: the user asked for two CAs.
 */
export function testCertServer(settings: Pick<Settings, 'server' | 'dryRunServer'>): string {
  const known = dryRunServerFor(settings.server, undefined);
  const staging = settings.dryRunServer ?? (known === settings.server ? LETSENCRYPT_STAGING : known);
  if (settings.server !== DEFAULT_SERVER && settings.server !== staging && known !== staging) {
    throw new UsageError(`--test-cert (--staging) orders at the staging CA ${staging}, and the server is ${settings.server}`, 'drop --test-cert, or --server (CERTMAN_SERVER, config "server")');
  }
  return staging;
}

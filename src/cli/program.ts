import { Command, Option } from 'commander';
import type { CliContext } from './context.js';
import { nonEmpty } from './parse.js';
import type { CommandResult } from './result.js';
import { defineAccount } from './commands/account.js';
import { defineCertificates } from './commands/certificates.js';
import { defineCheck } from './commands/check.js';
import { defineMetrics } from './commands/metrics.js';
import { defineCompletion } from './commands/completion.js';
import { defineDelete } from './commands/delete.js';
import { defineImportCertbot } from './commands/import-certbot.js';
import { defineIssue } from './commands/issue.js';
import { defineRegister } from './commands/register.js';
import { defineRenew } from './commands/renew.js';
import { defineRevoke } from './commands/revoke.js';
import { defineSchedule } from './commands/schedule.js';
import { defineServeChallenge } from './commands/serve-challenge.js';
import { defineSync } from './commands/sync.js';
import { defineStore } from './commands/store.js';
import { defineVerifyDns } from './commands/verify-dns.js';

export type Handler<O> = (options: O, ctx: CliContext) => Promise<CommandResult>;

/** Wraps a handler as a commander action; main.ts owns what happens with its result. */
export type Runner = <O>(handler: Handler<O>) => (...args: unknown[]) => Promise<void>;

/** Exit statuses, for `--help` and the man page. */
export const EXIT_CODES: readonly { code: number; meaning: string }[] = [
  { code: 0, meaning: 'success, including "nothing to do"' },
  { code: 1, meaning: 'the operation failed (CA error, network, challenge, I/O); renew: at least one certificate failed' },
  { code: 2, meaning: 'bad usage or bad input (unknown flag, invalid name, bad config file)' },
  { code: 75, meaning: 'another certman run holds the certificate (issue, delete, revoke --delete, renew --cert-name when all named were held; --wait waits instead)' },
  { code: 130, meaning: 'interrupted by Ctrl-C or SIGTERM during issue (published tokens are removed) or renew' },
];

export const EXIT_CODES_HELP = `\nExit codes:\n${EXIT_CODES.map(({ code, meaning }) => `  ${String(code).padEnd(5)}${meaning}`).join('\n')}`;

/**
 * The whole command surface. Command files only declare options and import their core code lazily,
 * so `certman --version` and `--help` load commander and nothing else.
 */
export function buildProgram(version: string, run: Runner): Command {
  const program = new Command('certman')
    .description('Get and renew TLS certificates from any ACME v2 CA (Let\'s Encrypt, ZeroSSL, your own CA).')
    .version(version, '-V, --version')
    .option('--config-dir <dir>', 'where accounts and certificates live (env CERTMAN_CONFIG_DIR; default /etc/certman as root, else ~/.config/certman)', nonEmpty('--config-dir'))
    .option('--store <dir|url>', 'where certificates, accounts, leases and challenge tokens are kept: a folder or file: URL, or redis://, rediss:// or redis+sentinel:// for a fleet (env CERTMAN_STORE, config store; default: the config dir)', nonEmpty('--store'))
    .option('--store-prefix <prefix>', 'prefix of every key in a Redis store, so several stores share one Redis (env CERTMAN_STORE_PREFIX, config storePrefix; default certman:)', nonEmpty('--store-prefix'))
    .option('--store-ca-file <pem>', "CA certificates a rediss:// store's certificate must chain to, instead of the system's (env CERTMAN_STORE_CA_FILE, config storeCaFile)", nonEmpty('--store-ca-file'))
    .option('--store-key-file <file>', 'the 256-bit key a Redis store seals private keys with (env CERTMAN_STORE_KEY holds the key itself; CERTMAN_STORE_KEY_FILE, config storeKeyFile)', nonEmpty('--store-key-file'))
    .option('--server <url>', 'ACME directory URL or alias: letsencrypt, letsencrypt-staging, zerossl (env CERTMAN_SERVER)')
    .option('--ca-file <pem>', "extra CA certificates to trust for the ACME server's TLS (env CERTMAN_CA_FILE)")
    .option('--config <file>', 'config file, JSON or YAML (env CERTMAN_CONFIG; default: certman.config.{json,yaml,yml} or .certmanrc[.json|.yaml|.yml] in the config dir)', nonEmpty('--config'))
    .option('--timeout <seconds>', 'how long one request to the ACME server may take, answer included; a CA that misses it is not asked again in the run (env CERTMAN_TIMEOUT; default 30)', undefined)
    .option('--max-retry-after <seconds>', 'longest Retry-After to wait for before asking the CA again; a longer one ends the request (env CERTMAN_MAX_RETRY_AFTER, config maxRetryAfter; default 30)')
    .option('--json', 'print one JSON document on stdout; progress and logs go to stderr (env CERTMAN_JSON=1)')
    .option('-n, --non-interactive', 'never prompt; missing answers are errors (also when CI=true or without a TTY; env CERTMAN_NON_INTERACTIVE=1)')
    .option('-q, --quiet', 'print only errors (env CERTMAN_QUIET=1)')
    .option('-v, --verbose', 'show each step, and stack traces on errors (env CERTMAN_VERBOSE=1)')
    .addOption(new Option('--no-color', 'no colours (also NO_COLOR=1)'))
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => undefined }) // main.ts prints errors, once, in one format
    .addHelpText('after', EXIT_CODES_HELP);

  defineRegister(program, run);
  defineAccount(program, run);
  defineIssue(program, run);
  defineCertificates(program, run);
  defineMetrics(program, run);
  defineRenew(program, run);
  defineSchedule(program, run);
  defineServeChallenge(program, run);
  defineSync(program, run);
  defineRevoke(program, run);
  defineDelete(program, run);
  defineVerifyDns(program, run);
  defineCheck(program, run);
  defineImportCertbot(program, run);
  defineStore(program, run);
  defineCompletion(program);
  return program;
}

/**
 * certman's command surface as plain data, read from the commander tree that buildProgram() builds.
 * `--help` (commander itself), the shell completions (completion/*.ts) and the man page (man.ts) are all
 * made from it, so a command or option added in a command file shows up in all three with no other edit.
 *
 * Commander knows flags, descriptions, choices and defaults; what it cannot know lives in the small
 * maps below: which values are paths, directories, users or stored certificate names, and the
 * hand-written parts of the man page. Loaded only by `certman completion` and scripts/gen-docs.mjs.
 */
import type { Argument, Command, Help, Option } from 'commander';
import { SERVER_ALIASES } from '../config/defaults.js';

/**
 * How a value is completed: `text` (anything, nothing to offer), `file`, `directory`, `cert-name`
 * (names in the store, from `certman __complete cert-names`), `user` (a login name), `command`
 * (a certman command). Fixed choices come from commander's `.choices()` and need no kind.
 */
export type ValueKind = 'text' | 'file' | 'directory' | 'cert-name' | 'user' | 'command';

/** Kinds by long flag, in every command that has the flag (unless COMMAND_VALUE_KINDS says otherwise). */
export const VALUE_KINDS: Readonly<Record<string, ValueKind>> = {
  '--config-dir': 'directory',
  '--config': 'file',
  '--ca-file': 'file',
  '--webroot': 'directory',
  '--webroot-path': 'directory',
  '--cert-path': 'file',
  '--key-path': 'file',
  '--fullchain-path': 'file',
  '--chain-path': 'file',
  '--csr': 'file',
  '--output': 'file',
  '--logs-dir': 'directory',
  '--dest': 'directory',
  '--cert-name': 'cert-name',
  '--user': 'user',
};

/** Kinds for one command's flag (`'<command> <long flag>'`), over VALUE_KINDS. */
export const COMMAND_VALUE_KINDS: Readonly<Record<string, ValueKind>> = {
  // certbot's lineage names, not certman's store.
  'import-certbot --cert-name': 'text',
};

/** Values offered for a flag although others are accepted too (`--server` takes any directory URL). */
export const VALUE_SUGGESTIONS: Readonly<Record<string, readonly string[]>> = {
  '--server': Object.keys(SERVER_ALIASES),
};

/** Kinds of positional arguments (`'<command> <argument>'`). */
export const ARGUMENT_KINDS: Readonly<Record<string, ValueKind>> = {
  'help command': 'command',
};

/** For flags in none of the maps: what the placeholder says (`--certbot-dir <dir>` is a directory). */
const PLACEHOLDER_KINDS: Readonly<Record<string, ValueKind>> = {
  dir: 'directory',
  directory: 'directory',
  folder: 'directory',
  file: 'file',
  path: 'file',
  pem: 'file',
};

export interface ValueSurface {
  /** The placeholder in the flags: `dir` for `--webroot <dir>`. */
  name: string;
  kind: ValueKind;
  /** The only values accepted (commander's choices). */
  choices?: string[];
  /** Values worth offering; others are accepted too. */
  suggestions?: string[];
  /** `[value]` rather than `<value>`. */
  optional: boolean;
}

export interface OptionSurface {
  /** As declared: `-d, --domain <name>`. */
  flags: string;
  short?: string;
  long?: string;
  description: string;
  /** The value the option takes, if any. */
  value?: ValueSurface;
  /** Given more than once, every value counts (collected into a list). */
  repeatable: boolean;
  /** The default, as `--help` shows it; undefined when there is none worth showing. */
  defaultText?: string;
}

export interface ArgumentSurface {
  name: string;
  description: string;
  required: boolean;
  variadic: boolean;
  value: ValueSurface;
}

export interface CommandSurface {
  name: string;
  aliases: string[];
  description: string;
  /** `certman issue [options]`, as `--help` prints it. */
  usage: string;
  options: OptionSurface[];
  arguments: ArgumentSurface[];
}

export interface Surface {
  name: string;
  description: string;
  usage: string;
  /** Options of the program itself: accepted before and after the command. */
  options: OptionSurface[];
  /** Every visible command, `help` included, in `--help` order. */
  commands: CommandSurface[];
}

/** Reads the visible commands and options of a commander program: exactly what `--help` lists. */
export function describeSurface(program: Command): Surface {
  const help = program.createHelp();
  return {
    name: program.name(),
    description: program.description(),
    usage: `${program.name()} ${program.usage()}`,
    options: help.visibleOptions(program).map((option) => describeOption(option, undefined)),
    commands: help.visibleCommands(program).map((command) => describeCommand(command, program, help)),
  };
}

function describeCommand(command: Command, program: Command, help: Help): CommandSurface {
  const name = command.name();
  const subcommands = help.visibleCommands(command).filter((sub) => sub.name() !== 'help');
  if (subcommands.length > 0) return describeGroup(command, subcommands, program, help);
  return {
    name,
    aliases: command.aliases(),
    description: command.description(),
    usage: `${program.name()} ${name} ${command.usage()}`.trimEnd(),
    options: help.visibleOptions(command).map((option) => describeOption(option, name)),
    arguments: command.registeredArguments.map((argument) => describeArgument(argument, name)),
  };
}

/**
 * A command group (`store migrate`, `store rotate-key`) as one command whose first argument is the subcommand:
 * the completions offer the subcommands, then the options of all of them; the man page lists each one.
 */
function describeGroup(command: Command, subcommands: Command[], program: Command, help: Help): CommandSurface {
  const name = command.name();
  const options = new Map<string, OptionSurface>();
  for (const sub of subcommands) {
    for (const option of help.visibleOptions(sub)) options.set(option.flags, describeOption(option, name));
  }
  const described = subcommands.map((sub) => `${sub.name()}: ${sub.description()}`).join('; ');
  return {
    name,
    aliases: command.aliases(),
    description: `${command.description()}. ${described}`,
    usage: `${program.name()} ${name} <${subcommands.map((sub) => sub.name()).join('|')}> [options]`,
    options: [...options.values()],
    arguments: [
      {
        name: 'command',
        description: 'what to do with the store',
        required: true,
        variadic: false,
        value: { name: 'command', kind: 'text', optional: false, choices: subcommands.map((sub) => sub.name()) },
      },
    ],
  };
}

function describeOption(option: Option, command: string | undefined): OptionSurface {
  const takesValue = option.required || option.optional;
  const long = option.long ?? undefined;
  const surface: OptionSurface = {
    flags: option.flags,
    description: option.description,
    repeatable: option.variadic || Array.isArray(option.defaultValue) || /\brepeat/i.test(option.description),
  };
  if (option.short !== undefined) surface.short = option.short;
  if (long !== undefined) surface.long = long;
  if (takesValue) {
    const name = placeholder(option.flags);
    const key = long ?? option.short ?? '';
    const kind = (command === undefined ? undefined : COMMAND_VALUE_KINDS[`${command} ${key}`]) ?? VALUE_KINDS[key] ?? PLACEHOLDER_KINDS[name.toLowerCase()] ?? 'text';
    // `<ip[:port]>` sets both: commander reads it as a required value.
    surface.value = { name, kind, optional: !option.required };
    if (option.argChoices !== undefined) surface.value.choices = [...option.argChoices];
    const suggestions = VALUE_SUGGESTIONS[key];
    if (suggestions !== undefined) surface.value.suggestions = [...suggestions];
  }
  const shown = defaultText(option);
  if (shown !== undefined) surface.defaultText = shown;
  return surface;
}

function describeArgument(argument: Argument, command: string): ArgumentSurface {
  const name = argument.name();
  const value: ValueSurface = { name, kind: ARGUMENT_KINDS[`${command} ${name}`] ?? PLACEHOLDER_KINDS[name.toLowerCase()] ?? 'text', optional: !argument.required };
  if (argument.argChoices !== undefined) value.choices = [...argument.argChoices];
  return { name, description: argument.description, required: argument.required, variadic: argument.variadic, value };
}

/** `dir` from `--webroot <dir>`, `ip[:port]` from `--resolver <ip[:port]>`. */
function placeholder(flags: string): string {
  const open = flags.search(/[<[]/);
  return open < 0 ? 'value' : flags.slice(open + 1, -1);
}

/** A default worth printing: none for booleans, empty lists or absent values. */
function defaultText(option: Option): string | undefined {
  if (!(option.required || option.optional)) return undefined;
  if (option.defaultValueDescription !== undefined) return option.defaultValueDescription;
  const value: unknown = option.defaultValue;
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Every `-x` and `--long` spelling of the options, for lists and tests. */
export function optionNames(options: OptionSurface[]): string[] {
  return options.flatMap((o) => [...(o.short === undefined ? [] : [o.short]), ...(o.long === undefined ? [] : [o.long])]);
}

// ---------------------------------------------------------------------------------------------------
// Hand-written parts of the man page. Text is plain; `code` becomes bold, and the generator escapes
// everything else for roff.

/** Shown in the man page's header; change it when the hand-written text below changes. */
export const MAN_DATE = '2026-12-03';

export const MAN_DESCRIPTION: readonly string[] = [
  '`certman` gets and renews TLS certificates from any ACME v2 certificate authority: Let\'s Encrypt, ZeroSSL, a company CA, or Pebble for tests. It answers HTTP-01 challenges through a webroot your web server already serves, a built-in server for the length of an order, or a long-running `certman serve-challenge` responder.',
  'Certificates are kept in certbot\'s layout (`live/<name>/fullchain.pem`, `privkey.pem`, ...), so web server configurations written for certbot keep working. `certman renew` renews, from cron or a systemd timer, every certificate that is due, the way it was issued.',
  'Every command works without a terminal and without prompts (`-n`, or when `CI` is set), prints one JSON document with `--json`, and reports bad input with a one-line error and exit status 2.',
  'Global options go before or after the command. Settings are taken from flags, then the environment, then the config file, then built-in defaults.',
];

/** Variables certman reads. Every CERTMAN_* variable in src/ must be here (a test checks). */
export const MAN_ENVIRONMENT: readonly (readonly [string, string])[] = [
  ['CERTMAN_CONFIG_DIR', 'Where accounts and certificates live, like `--config-dir`. Default: /etc/certman as root, else $XDG_CONFIG_HOME/certman or ~/.config/certman.'],
  ['CERTMAN_STORE', 'Where certificates, accounts, leases and challenge tokens are kept, like `--store` (config store): a folder or file: URL, or a Redis URL (redis://, rediss://, redis+sentinel://) shared by a fleet. Default: the config dir. Logs stay in the config dir.'],
  ['CERTMAN_STORE_PREFIX', 'Prefix of every key in a Redis store, like `--store-prefix` (config storePrefix). Default: certman:.'],
  ['CERTMAN_STORE_KEY', 'The store key of a Redis store itself: 64 hex digits or base64 of 32 bytes (openssl rand -hex 32). Private keys are sealed with it (AES-256-GCM) before they reach Redis. Several keys, one per line or comma-separated: the first seals, the others still open what was sealed under them (a key rotation, see `certman store rotate-key`). `--store-key-file` wins over it.'],
  ['CERTMAN_STORE_CA_FILE', 'CA certificates (PEM) a rediss:// store\'s certificate must chain to instead of the system\'s, like `--store-ca-file` (config storeCaFile).'],
  ['CERTMAN_STORE_SENTINEL_PASSWORD', 'The Redis sentinels\' own password for a redis+sentinel:// store (the URL\'s user and password are the data nodes\'). Or a file: CERTMAN_STORE_SENTINEL_PASSWORD_FILE, config storeSentinelPasswordFile.'],
  ['CERTMAN_STORE_SENTINEL_PASSWORD_FILE', 'A file holding the sentinels\' password (config storeSentinelPasswordFile); not readable by other users.'],
  ['CERTMAN_STORE_KEY_FILE', 'A file holding the store key, like `--store-key-file` (config storeKeyFile): 32 raw bytes, or the key as hex or base64 text, or several keys, one per line (the first seals). It must not be readable by other users.'],
  ['CERTMAN_SERVER', 'The ACME directory URL or alias, like `--server`. Default: letsencrypt.'],
  ['CERTMAN_CA_FILE', 'Extra CA certificates (PEM) to trust for the ACME server\'s TLS, like `--ca-file`.'],
  ['CERTMAN_CONFIG', 'The config file, like `--config`.'],
  ['CERTMAN_EMAIL', 'The account contact used when registering, like `--email`.'],
  ['CERTMAN_TIMEOUT', 'Per-request timeout for the ACME server in seconds, like `--timeout`. Default: 30.'],
  ['CERTMAN_MAX_RETRY_AFTER', 'The longest Retry-After in seconds certman waits for before asking the CA again, like `--max-retry-after` (config maxRetryAfter). Default: 30.'],
  ['CERTMAN_LEASE_SECONDS', 'How long a certificate or account lease lasts unless its holder extends it (config leaseSeconds; 2 to 3600). Default: 60.'],
  ['CERTMAN_JSON', 'When 1, true or yes: as `--json`.'],
  ['CERTMAN_QUIET', 'When 1, true or yes: as `--quiet`.'],
  ['CERTMAN_VERBOSE', 'When 1, true or yes: as `--verbose`.'],
  ['CERTMAN_NON_INTERACTIVE', 'When 1, true or yes: as `--non-interactive`.'],
  ['CERTMAN_DRY_RUN_SERVER', 'The CA `renew --dry-run` orders from for a certificate whose CA has no known staging CA (config dryRunServer). Default: the certificate\'s own CA; Let\'s Encrypt certificates dry-run at Let\'s Encrypt staging.'],
  ['CERTMAN_RESOLVER', 'DNS servers for the self-check, the DNS gate and `verify-dns`, as comma-separated ip[:port] items (config resolver).'],
  ['CERTMAN_VALIDATION_PORT', 'The port the CA validates HTTP-01 on, for the self-check (config validationPort). Default: 80.'],
  ['NO_COLOR', 'When set to anything, output has no colours, like `--no-color`.'],
  ['NODE_EXTRA_CA_CERTS', 'A PEM file of extra CA certificates Node.js trusts, for the ACME server too.'],
  ['CI', 'When set (and not "false"), certman never prompts, as with `-n`.'],
  ['XDG_CONFIG_HOME', 'When an absolute path, the default config dir of users other than root is $XDG_CONFIG_HOME/certman. `schedule --systemd --user` installs under it.'],
];

/** Variables certman sets for hooks. */
export const MAN_HOOK_ENVIRONMENT: readonly (readonly [string, string])[] = [
  ['RENEWED_LINEAGE', 'For `--deploy-hook`: the live folder of the certificate just saved, e.g. /etc/certman/live/example.com.'],
  ['RENEWED_DOMAINS', 'For `--deploy-hook`: that certificate\'s names; for `--post-hook`: the names of every certificate renewed in the run. Space-separated.'],
  ['FAILED_DOMAINS', 'For `--post-hook`: the names of every certificate whose renewal failed in the run. Space-separated.'],
];

/** The store layout (docs/ARCHITECTURE.md) and the other files certman reads or writes. */
export const MAN_FILES: readonly (readonly [string, string])[] = [
  ['/etc/certman, ~/.config/certman', 'The default config dir, as root and otherwise (see `--config-dir`). The paths below are inside it, or, from live/ to state/, inside the store folder when `--store` names another one.'],
  ['live/<name>/{cert,chain,fullchain,privkey}.pem', 'Relative symbolic links to the newest version of each file: point web servers here. live/<name> itself links to the folder beside it (.<name>.a or .<name>.b) holding them, so a renewal switches all four in one step. Files, links and folders of your own kept in live/<name>/ (a combined PEM a deploy hook writes, dhparams) are carried over to each new version\'s folder.'],
  ['archive/<name>/{cert,chain,fullchain,privkey}<N>.pem', 'Every version, never reused; keys 0600, folder 0700.'],
  ['renewal/<name>.json', 'How to renew the certificate: names, key type, method, webroot or port, server, hooks, dates, ARI window. As root, a file not owned by root or writable by group or others is not used: `renew` reports that certificate as failed and runs none of its hooks, `certificates` lists it as damaged with the reason.'],
  ['accounts/<server>/account.json, private_key.pem', 'One ACME account per directory URL; the key is 0600.'],
  [
    'accounts/<server>/private_key.pending.pem',
    'The new key of an `account rollover` the CA may not have taken yet (0600). The next command that uses the account asks the CA which key it holds and keeps that one; `account rollover --discard-pending` drops a pending key that cannot be settled.',
  ],
  ['challenges/<token>.json', 'Tokens published by `issue --responder` and `renew` for `certman serve-challenge` to answer.'],
  ['.pending/<name>', 'Journal of a switch of live/ in progress; finished or rolled back when the store is next opened. As root, a journal not owned by root or writable by group or others is not applied.'],
  ['.locks/', 'Leases: a run working on a certificate holds cert.<name>.lock (a registration, account.<hash>.lock), so another run on it reports it held (status 75) or waits with `--wait`, while runs on other certificates go on. Port locks of standalone servers (port-<n>.lock) stay in the config dir. Between hosts sharing the store a lease lasts leaseSeconds (60) unless its holder extends it.'],
  ['state/<key>.json', 'Failed validations per name, rate limits per CA account (when a CA answered rateLimited, nothing is sent to it for that account before the time it gave), and which servers offer ARI.'],
  ['logs/certman-<time>-<pid>.log', 'One log per `renew` run; the newest 30 are kept.'],
  [
    'certman.config.{json,yaml,yml}, .certmanrc*',
    'The config file, JSON or YAML: the first of .certmanrc (YAML), .certmanrc.{json,yaml,yml}, certman.config.{json,yaml,yml} in the config dir, unless `--config` names one. Config is data: a JavaScript or TypeScript config file is an error, and the current folder is never searched. As root, the config dir, its renewal/ and .pending/ folders, the config file and every folder above them must be owned by root and not writable by group or others (a folder above with the sticky bit, like /tmp, is allowed); otherwise certman exits with status 2.',
  ],
  ['/etc/cron.d/certman', 'What `certman schedule --cron --install` writes (with `--user`: a block in your crontab).'],
  ['/etc/systemd/system/certman-renew.*', 'The service and timer `certman schedule --systemd --install` writes (with `--user`: in ~/.config/systemd/user).'],
];

export interface ManExample {
  title: string;
  /** Shown as typed, one line each. */
  lines: readonly string[];
}

export const MAN_EXAMPLES: readonly ManExample[] = [
  {
    title: 'Register once, then get a certificate through the web server\'s document root (webroot):',
    lines: [
      'certman register --email admin@example.com --agree-tos',
      'certman issue -d example.com -d www.example.com --webroot /var/www/html \\',
      '    --deploy-hook "systemctl reload nginx"',
    ],
  },
  {
    title: 'No web server on port 80: let certman answer with its own server for the length of the order (standalone):',
    lines: ['certman issue -d example.com --standalone', 'certman issue -d example.com --standalone \\', '    --http-port 8080 --http-address 127.0.0.1'],
  },
  {
    title: 'A long-running responder that the web server or load balancer routes /.well-known/acme-challenge/ to; issue and renew publish their tokens for it:',
    lines: ['certman serve-challenge --port 8402 --address 127.0.0.1', 'certman issue -d example.com --responder'],
  },
  {
    title: 'A fleet sharing one Redis store: every web server keeps its own live/ files current and reloads when they changed:',
    lines: [
      'export CERTMAN_STORE=redis://10.0.0.5:6379',
      'export CERTMAN_STORE_KEY_FILE=/etc/certman/store.key',
      'certman sync --watch --deploy-hook "systemctl reload nginx"',
    ],
  },
  {
    title: 'Renew from cron twice a day (what `certman schedule --cron --install` writes to /etc/cron.d/certman, at a time chosen per machine):',
    lines: ['sudo certman schedule --cron --install', '17 3,15 * * * root /usr/bin/node .../certman/bin/certman renew -q'],
  },
  {
    title: 'Renew from a systemd timer, then check when it runs next:',
    lines: ['sudo certman schedule --systemd --install', 'systemctl list-timers certman-renew.timer'],
  },
  {
    title: 'In a CI pipeline: no prompts, JSON output, settings from the environment:',
    lines: [
      'export CERTMAN_CONFIG_DIR="$PWD/.certman" CERTMAN_SERVER=letsencrypt-staging',
      'certman -n --json register --email ci@example.com --agree-tos',
      'certman -n --json issue -d ci.example.com --standalone --http-port 8080',
      'certman --json certificates',
    ],
  },
  {
    title: 'Move a folder store into Redis for a fleet (each certificate is verified there), then rotate the store key: every node gets the key file with the new key first, one run seals everything again, then the old key is removed:',
    lines: [
      'export CERTMAN_STORE_KEY_FILE=/etc/certman/store.key',
      'certman store migrate --from /etc/certman --to redis://10.0.0.5/0',
      'printf "%s\\n%s\\n" "$NEW" "$OLD" > /etc/certman/store.key',
      'certman --store redis://10.0.0.5/0 store rotate-key',
    ],
  },
  {
    title: 'Shell completion for the current bash session (see `certman completion --help`):',
    lines: ['source <(certman completion bash)'],
  },
];

/** Pages in SEE ALSO, as `name(section)`, and further reading. */
export const MAN_SEE_ALSO: readonly string[] = ['certbot(1)', 'crontab(5)', 'systemd.timer(5)', 'nginx(8)'];
export const MAN_SEE_ALSO_TEXT = 'RFC 8555 (ACME), RFC 9773 (ACME Renewal Information), RFC 8659 (CAA); the README in the certman package.';

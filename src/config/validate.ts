/**
 * Hand-written, table-driven validation of a parsed config file.
 * Every error is a one-line UsageError: `config file <file>: <what is wrong with which key>`.
 */
import { isIP } from 'node:net';
import { canonicalIp, nameserverProblem } from '../dns/nameserver.js';
import { UsageError } from '../errors.js';
import type { HookCommands } from '../lineage/types.js';
import { PROFILE_NAME_RULE, profileNameProblem } from '../acme/profiles.js';
import { serverProblem } from './defaults.js';
import { storeLocationProblem } from './store-location.js';
import { prefixProblem } from '../store/redis/keys.js';
import { printableLine } from '../text.js';
import { endpointProblem } from '../served/endpoint.js';
import type { FileConfig } from './types.js';

type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/** Turns the raw value of `key` into its typed form, or says (one line) what is wrong with it. */
type Parser<T> = (value: unknown, key: string) => Parsed<T>;

type Parsers = { [K in keyof FileConfig]-?: Parser<NonNullable<FileConfig[K]>> };

const HOOK_NAMES = ['pre', 'post', 'deploy'] as const;

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = (key: string, expectation: string, value: unknown): Parsed<never> => ({
  ok: false,
  problem: `"${key}" ${expectation} (got ${describe(value)})`,
});

/** A short, single-line rendering of a bad value for error messages. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string': {
      const text = JSON.stringify(value);
      return text.length > 60 ? `${text.slice(0, 57)}..."` : text;
    }
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'object':
      return value instanceof Date ? 'a date' : 'an object';
    default:
      return `a ${typeof value}`;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

const nonEmptyString: Parser<string> = (value, key) =>
  typeof value === 'string' && value.trim() !== '' ? ok(value) : fail(key, 'must be a non-empty string', value);

/** A common name stored with certificates and shown in warnings: printable, on one line. */
const commonName: Parser<string> = (value, key) =>
  typeof value === 'string' && value.trim() !== '' && printableLine(value) === value ? ok(value) : fail(key, 'must be a common name on one line, without control characters', value);

/** A folder or URL; a bad one is not quoted back (a URL may carry a password). */
const storeLocation: Parser<string> = (value, key) => {
  if (typeof value !== 'string') return fail(key, 'must be a folder or a file: URL', value);
  const problem = storeLocationProblem(value);
  return problem === undefined ? ok(value) : { ok: false, problem: `"${key}": ${problem}` };
};

const storePrefix: Parser<string> = (value, key) => {
  const problem = typeof value === 'string' ? prefixProblem(value) : 'must be a string';
  return problem === undefined ? ok(value as string) : fail(key, problem, value);
};

function oneOf<const T extends string | number>(choices: readonly T[]): Parser<T> {
  return (value, key) =>
    (choices as readonly unknown[]).includes(value)
      ? ok(value as T)
      : fail(key, `must be one of ${choices.join(', ')}`, value);
}

/**
 * Deliberately loose: something@something without blanks, control characters or commas (a comma would
 * make the `mailto:` contact two addresses); the CA does the real check.
 */
export function looksLikeEmail(value: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[^\s@,\x00-\x1f\x7f]+@[^\s@,\x00-\x1f\x7f]+$/.test(value);
}

/**
 * Every address certman is given (flag, CERTMAN_EMAIL, config file, prompt) is checked here before
 * anything is sent: returns it, or throws a UsageError `<source>: invalid email address "<value>"`.
 */
export function checkEmail(value: string, source: string): string {
  if (!looksLikeEmail(value)) throw new UsageError(`${source}: invalid email address ${JSON.stringify(value)}`, 'give an address such as admin@example.com');
  return value;
}

const email: Parser<string> = (value, key) =>
  typeof value === 'string' && looksLikeEmail(value)
    ? ok(value)
    : fail(key, 'must be an email address containing @', value);

const server: Parser<string> = (value, key) => {
  if (typeof value !== 'string') return fail(key, 'must be a string', value);
  const problem = serverProblem(value);
  return problem === undefined ? ok(value) : fail(key, `is not a valid ACME server: ${problem}`, value);
};

const port: Parser<number> = (value, key) =>
  typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535
    ? ok(value)
    : fail(key, 'must be an integer from 1 to 65535', value);

const positiveNumber: Parser<number> = (value, key) =>
  typeof value === 'number' && Number.isFinite(value) && value > 0
    ? ok(value)
    : fail(key, 'must be a positive number', value);

const fraction: Parser<number> = (value, key) =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 0.5
    ? ok(value)
    : fail(key, 'must be a number from 0 to 0.5 (a fraction of the lifetime)', value);

/** Retry-After waits certman sits through inside one run: none (0) up to an hour. */
export const MAX_RETRY_AFTER_LIMIT = 3600;

function wholeSecondsProblem(value: unknown, min: number, max: number): string | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? undefined : `must be a whole number of seconds from ${min} to ${max}`;
}

export function retryAfterCapProblem(value: unknown): string | undefined {
  return wholeSecondsProblem(value, 0, MAX_RETRY_AFTER_LIMIT);
}

/**
 * Lease length: at least 2 s, so its holder (extending it every quarter) keeps it on a loaded host; at most an
 * hour, which is how long a dead run on another host may block a certificate.
 */
export function leaseSecondsProblem(value: unknown): string | undefined {
  return wholeSecondsProblem(value, 2, 3600);
}

const checkedBy =
  (problemOf: (value: unknown) => string | undefined): Parser<number> =>
  (value, key) => {
    const problem = problemOf(value);
    return problem === undefined ? ok(value as number) : fail(key, problem, value);
  };

const validationLimit: Parser<number> = (value, key) =>
  typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 4
    ? ok(value)
    : fail(key, "must be a whole number from 1 to 4 (Let's Encrypt allows 5 failures per name per account per hour)", value);

/** Up to a million: a private CA may allow far more than Let's Encrypt's 300 per 3 hours. */
const orderLimit: Parser<number> = (value, key) =>
  typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 1_000_000
    ? ok(value)
    : fail(key, "must be a whole number from 1 to 1000000 (Let's Encrypt allows 300 new orders per account per 3 hours)", value);

/** A list (or one string) whose every item passes `problem`; each item is returned as `normalize` makes it. */
function listOf(expectation: string, problem: (item: string) => string | undefined, normalize = (item: string) => item): Parser<string[]> {
  return (value, key) => {
    const items: unknown = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(items) || items.length === 0) return fail(key, `must be a list of ${expectation}`, value);
    const out: string[] = [];
    for (const [i, item] of items.entries()) {
      if (typeof item !== 'string') return fail(`${key}[${i}]`, `must be a string`, item);
      const why = problem(item.trim());
      if (why !== undefined) return fail(`${key}[${i}]`, `is invalid: ${why}`, item);
      out.push(normalize(item.trim()));
    }
    return ok(out);
  };
}

/**
 * Letters, digits, hyphens (and underscores), at least two labels; one trailing dot allowed. Not an address
 * (`192.0.2.10` fits the pattern): it is never a CNAME target or a CAA issuer domain.
 */
const hostNameProblem = (item: string): string | undefined =>
  /^(?=.{1,253}\.?$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}\.?$/i.test(item) && isIP(item) === 0 ? undefined : 'not a DNS name';

const hostName: Parser<string> = (value, key) =>
  typeof value === 'string' && hostNameProblem(value.trim()) === undefined ? ok(value.trim().toLowerCase()) : fail(key, 'must be a DNS name', value);

const profileName: Parser<string> = (value, key) =>
  typeof value === 'string' && profileNameProblem(value) === undefined ? ok(value) : fail(key, `must be a profile name (${PROFILE_NAME_RULE})`, value);

const hooks: Parser<HookCommands> = (value, key) => {
  if (!isPlainObject(value)) return fail(key, `must be an object with ${HOOK_NAMES.join(', ')} commands`, value);
  const out: HookCommands = {};
  for (const [name, command] of Object.entries(value)) {
    const subKey = `${key}.${name}`;
    if (!(HOOK_NAMES as readonly string[]).includes(name)) {
      return { ok: false, problem: `unknown key "${subKey}" (hooks are ${HOOK_NAMES.join(', ')})` };
    }
    if (command === undefined) continue;
    const parsed = nonEmptyString(command, subKey);
    if (!parsed.ok) return parsed;
    out[name as (typeof HOOK_NAMES)[number]] = parsed.value;
  }
  return ok(out);
};

const endpointList = listOf('endpoints (host[:port])', endpointProblem);

/** A list for every certificate, or lists by certificate name (`"*"`: the others). */
const endpoints: Parser<string[] | Record<string, string[]>> = (value, key) => {
  if (!isPlainObject(value)) return endpointList(value, key);
  const out: Record<string, string[]> = {};
  for (const [name, list] of Object.entries(value)) {
    const parsed = endpointList(list, `${key}.${name}`);
    if (!parsed.ok) return parsed;
    out[name] = parsed.value;
  }
  return ok(out);
};

/** At most an hour: a deploy that takes longer is not waited for by a renewal run. */
const verifyDeploy: Parser<boolean | number> = (value, key) =>
  typeof value === 'boolean' || (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 3600)
    ? ok(value)
    : fail(key, 'must be true, false or whole seconds from 1 to 3600', value);

/** One validator per accepted key; `satisfies` makes the compiler check the table is complete. */
const PARSERS = {
  email,
  server,
  caFile: nonEmptyString,
  store: storeLocation,
  storePrefix: storePrefix,
  storeKeyFile: nonEmptyString,
  storeCaFile: nonEmptyString,
  storeSentinelPasswordFile: nonEmptyString,
  keyType: oneOf(['ecdsa', 'rsa']),
  ellipticCurve: oneOf(['p256', 'p384']),
  rsaKeySize: oneOf([2048, 3072, 4096]),
  webroot: nonEmptyString,
  httpPort: port,
  httpAddress: nonEmptyString,
  preferredChain: commonName,
  renewDays: positiveNumber,
  renewalSpread: fraction,
  requestsPerSecond: positiveNumber,
  maxRetryAfter: checkedBy(retryAfterCapProblem),
  leaseSeconds: checkedBy(leaseSecondsProblem),
  failedValidationLimit: validationLimit,
  newOrderLimit: orderLimit,
  dryRunServer: server,
  hooks,
  resolver: listOf('IP addresses with an optional port', nameserverProblem),
  validationPort: port,
  expectIp: listOf('IP addresses', (item) => (canonicalIp(item) === undefined ? 'not an IP address' : undefined), (item) => canonicalIp(item) ?? item),
  expectCname: listOf('DNS names', hostNameProblem, (item) => item.toLowerCase().replace(/\.$/, '')),
  caIdentity: hostName,
  profile: profileName,
  endpoints,
  verifyDeploy,
} satisfies Parsers;

const KEYS: ReadonlyMap<string, keyof FileConfig> = new Map(
  (Object.keys(PARSERS) as (keyof FileConfig)[]).map((key) => [key, key]),
);

function assign<K extends keyof FileConfig>(out: FileConfig, key: K, raw: unknown): string | undefined {
  const parser = PARSERS[key] as Parser<NonNullable<FileConfig[K]>>;
  const parsed = parser(raw, key);
  if (!parsed.ok) return parsed.problem;
  out[key] = parsed.value;
  return undefined;
}

/**
 * Checks the parsed contents of a config file and returns them typed.
 * `file` is only used in messages. An empty file (undefined/null) is an empty config;
 * keys whose value is `undefined` (possible in JS configs) count as absent, but an explicit
 * `null` (e.g. `email:` with nothing after it in YAML) is an error.
 */
export function validateFileConfig(raw: unknown, file: string): FileConfig {
  if (raw === undefined || raw === null) return {};
  const prefix = `config file ${file}:`;
  if (!isPlainObject(raw)) {
    throw new UsageError(`${prefix} expected an object of settings, got ${describe(raw)}`);
  }
  const out: FileConfig = {};
  for (const [name, value] of Object.entries(raw)) {
    const key = KEYS.get(name);
    if (key === undefined) {
      const suggestion = closest(name, [...KEYS.keys()]);
      throw new UsageError(
        `${prefix} unknown key ${JSON.stringify(name)}`,
        suggestion === undefined ? `known keys: ${[...KEYS.keys()].join(', ')}` : `did you mean "${suggestion}"?`,
      );
    }
    if (value === undefined) continue;
    const problem = assign(out, key, value);
    if (problem !== undefined) throw new UsageError(`${prefix} ${problem}`);
  }
  return out;
}

/** The known key nearest to a misspelt one (case-insensitive edit distance ≤ 2), if any. */
function closest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [];
    for (let j = 0; j <= b.length; j++) {
      if (i === 0 || j === 0) {
        row.push(i + j);
        continue;
      }
      const prev = rows[i - 1] ?? [];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      }
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? Math.max(a.length, b.length);
}

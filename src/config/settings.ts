/**
 * Merges command-line flags, environment and config file into the global Settings.
 */
import { dirname, resolve } from 'node:path';
import { nameserverProblem } from '../dns/nameserver.js';
import { UsageError } from '../errors.js';
import { DEFAULT_SERVER, DEFAULT_VERIFY_DEPLOY_SECONDS, defaultConfigDir, resolveServer } from './defaults.js';
import { endpointsConfig } from '../served/endpoint.js';
import { checkStorePrefix, resolveStoreLocation } from './store-location.js';
import type { GlobalFlags, LoadedConfig, Settings } from './types.js';
import { checkEmail, leaseSecondsProblem, retryAfterCapProblem } from './validate.js';

/** Environment variables certman reads (an empty value counts as unset). */
export const ENV_VARS = {
  configDir: 'CERTMAN_CONFIG_DIR',
  server: 'CERTMAN_SERVER',
  caFile: 'CERTMAN_CA_FILE',
  email: 'CERTMAN_EMAIL',
  dryRunServer: 'CERTMAN_DRY_RUN_SERVER',
  resolver: 'CERTMAN_RESOLVER',
  validationPort: 'CERTMAN_VALIDATION_PORT',
  maxRetryAfter: 'CERTMAN_MAX_RETRY_AFTER',
  store: 'CERTMAN_STORE',
  storePrefix: 'CERTMAN_STORE_PREFIX',
  storeKeyFile: 'CERTMAN_STORE_KEY_FILE',
  storeCaFile: 'CERTMAN_STORE_CA_FILE',
  storeSentinelPasswordFile: 'CERTMAN_STORE_SENTINEL_PASSWORD_FILE',
  leaseSeconds: 'CERTMAN_LEASE_SECONDS',
} as const;

export interface SettingsInput {
  flags: GlobalFlags;
  env: Record<string, string | undefined>;
  file: LoadedConfig;
  isRoot: boolean;
  /** Base for relative paths from flags and environment; defaults to process.cwd(). */
  cwd?: string;
}

/** A value and where it came from, for error messages and path resolution. */
interface Sourced {
  value: string;
  /** `--server`, `CERTMAN_SERVER`, `config file /x: "server"`. */
  source: string;
  /** Directory relative paths are resolved against. */
  base: string;
}

/**
 * Pure (apart from reading process.cwd() when `cwd` is not given): flags > environment >
 * config file > built-in defaults.
 *
 * - configDir: flag, CERTMAN_CONFIG_DIR, or defaultConfigDir(); never from the config file
 *   (the file may live in it). Made absolute against `cwd`.
 * - store: flag, CERTMAN_STORE (both relative to `cwd`), file (relative to the file's folder), or the
 *   config dir. Logs and other things of this host stay in the config dir.
 * - server: flag, CERTMAN_SERVER, file, or Let's Encrypt production; aliases expanded.
 * - caFile: flag, CERTMAN_CA_FILE (both relative to `cwd`), or file (relative to the file's
 *   folder). webroot from the file is resolved against the file's folder too.
 * - email: CERTMAN_EMAIL or file (there is no global email flag).
 * - keyType ecdsa, ellipticCurve p256, rsaKeySize 2048, httpPort 80, hooks {} by default.
 *   Optional settings that are not set anywhere are absent from the result (not `undefined`).
 *
 * A bad server or email from a flag or the environment is a UsageError naming its source.
 */
export function resolveSettings(input: SettingsInput): Settings {
  const { flags, env, file } = input;
  const cwd = input.cwd ?? process.cwd();
  const config = file.config;
  const fileBase = file.path === undefined ? cwd : dirname(file.path);
  const fileSource = (key: string): string => `config file ${file.path ?? '(unknown)'}: "${key}"`;
  const fromEnv = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };

  const pick = (flag: string | undefined, flagName: string, envName: string, fileValue: string | undefined, fileKey: string): Sourced | undefined => {
    if (flag !== undefined) return { value: flag, source: flagName, base: cwd };
    const envValue = fromEnv(envName);
    if (envValue !== undefined) return { value: envValue, source: envName, base: cwd };
    if (fileValue !== undefined) return { value: fileValue, source: fileSource(fileKey), base: fileBase };
    return undefined;
  };

  const configDir = resolveConfigDir(input);

  const serverPick = pick(flags.server, '--server', ENV_VARS.server, config.server, 'server');
  const server = serverPick === undefined ? DEFAULT_SERVER : withSource(serverPick, resolveServer);

  const storePick = pick(flags.store, '--store', ENV_VARS.store, config.store, 'store');
  const store = storePick === undefined ? configDir : resolveStoreLocation(storePick.value, storePick.base, storePick.source);

  const storePrefix = pick(flags.storePrefix, '--store-prefix', ENV_VARS.storePrefix, config.storePrefix, 'storePrefix');
  const storeKeyFile = pick(flags.storeKeyFile, '--store-key-file', ENV_VARS.storeKeyFile, config.storeKeyFile, 'storeKeyFile');
  const storeCaFile = pick(flags.storeCaFile, '--store-ca-file', ENV_VARS.storeCaFile, config.storeCaFile, 'storeCaFile');
  const sentinelPasswordFile = pick(undefined, '', ENV_VARS.storeSentinelPasswordFile, config.storeSentinelPasswordFile, 'storeSentinelPasswordFile');

  const settings: Settings = {
    configDir,
    store,
    server,
    keyType: config.keyType ?? 'ecdsa',
    ellipticCurve: config.ellipticCurve ?? 'p256',
    rsaKeySize: config.rsaKeySize ?? 2048,
    httpPort: config.httpPort ?? 80,
    validationPort: config.validationPort ?? 80,
    hooks: { ...config.hooks },
  };
  if (storePrefix !== undefined) settings.storePrefix = withSource(storePrefix, checkStorePrefix);
  if (storeKeyFile !== undefined) settings.storeKeyFile = resolve(storeKeyFile.base, storeKeyFile.value);
  if (storeCaFile !== undefined) settings.storeCaFile = resolve(storeCaFile.base, storeCaFile.value);
  if (sentinelPasswordFile !== undefined) settings.storeSentinelPasswordFile = resolve(sentinelPasswordFile.base, sentinelPasswordFile.value);
  const dryRun = pick(undefined, '', ENV_VARS.dryRunServer, config.dryRunServer, 'dryRunServer');
  if (dryRun !== undefined) settings.dryRunServer = withSource(dryRun, resolveServer);

  const caFile = pick(flags.caFile, '--ca-file', ENV_VARS.caFile, config.caFile, 'caFile');
  if (caFile !== undefined) settings.caFile = resolve(caFile.base, caFile.value);

  const email = pick(undefined, '', ENV_VARS.email, config.email, 'email');
  if (email !== undefined) settings.email = checkEmail(email.value, email.source);

  if (config.webroot !== undefined) settings.webroot = resolve(fileBase, config.webroot);
  if (config.httpAddress !== undefined) settings.httpAddress = config.httpAddress;
  if (config.preferredChain !== undefined) settings.preferredChain = config.preferredChain;
  if (config.renewDays !== undefined) settings.renewDays = config.renewDays;
  if (config.renewalSpread !== undefined) settings.renewalSpread = config.renewalSpread;
  if (config.requestsPerSecond !== undefined) settings.requestsPerSecond = config.requestsPerSecond;
  const maxRetryAfter = pick(flags.maxRetryAfter, '--max-retry-after', ENV_VARS.maxRetryAfter, config.maxRetryAfter?.toString(), 'maxRetryAfter');
  if (maxRetryAfter !== undefined) settings.maxRetryAfter = Number(withSource(maxRetryAfter, wholeSeconds(retryAfterCapProblem)));
  const leaseSeconds = pick(undefined, '', ENV_VARS.leaseSeconds, config.leaseSeconds?.toString(), 'leaseSeconds');
  if (leaseSeconds !== undefined) settings.leaseSeconds = Number(withSource(leaseSeconds, wholeSeconds(leaseSecondsProblem)));
  const resolverEnv = fromEnv(ENV_VARS.resolver);
  const resolver = resolverEnv === undefined ? config.resolver : resolverList(resolverEnv);
  if (resolver !== undefined && resolver.length > 0) settings.resolver = resolver;
  const validationPort = fromEnv(ENV_VARS.validationPort);
  if (validationPort !== undefined) {
    const n = Number(validationPort);
    if (!/^\d+$/.test(validationPort) || n < 1 || n > 65535) throw new UsageError(`${ENV_VARS.validationPort} must be a port number, not "${validationPort}"`);
    settings.validationPort = n;
  }
  if (config.expectIp !== undefined) settings.expectIp = config.expectIp;
  if (config.expectCname !== undefined) settings.expectCname = config.expectCname;
  if (config.caIdentity !== undefined) settings.caIdentity = config.caIdentity;
  if (config.profile !== undefined) settings.profile = config.profile;
  if (config.endpoints !== undefined) settings.endpoints = endpointsConfig(config.endpoints);
  const verifyDeploy = config.verifyDeploy === true ? DEFAULT_VERIFY_DEPLOY_SECONDS : config.verifyDeploy;
  if (typeof verifyDeploy === 'number') settings.verifyDeploy = verifyDeploy;
  if (config.failedValidationLimit !== undefined) settings.failedValidationLimit = config.failedValidationLimit;
  if (config.newOrderLimit !== undefined) settings.newOrderLimit = config.newOrderLimit;
  if (file.path !== undefined) settings.configFile = file.path;
  return settings;
}

/** --config-dir, else CERTMAN_CONFIG_DIR, else the default for the user; absolute (against `cwd`). */
export function resolveConfigDir(input: Pick<SettingsInput, 'flags' | 'env' | 'isRoot' | 'cwd'>): string {
  const fromEnv = input.env[ENV_VARS.configDir];
  const given = input.flags.configDir ?? (fromEnv === '' ? undefined : fromEnv);
  return resolve(input.cwd ?? process.cwd(), given ?? defaultConfigDir(input.env, input.isRoot));
}

/** Applies a check and prefixes its UsageError with where the value came from. */
function withSource(sourced: Sourced, check: (value: string) => string): string {
  try {
    return check(sourced.value);
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(`${sourced.source}: ${err.message}`, err.hint);
    throw err;
  }
}

/** CERTMAN_RESOLVER: `ip[:port]` items separated by commas. */
function resolverList(value: string): string[] {
  const items = value.split(',').map((item) => item.trim()).filter((item) => item !== '');
  for (const item of items) {
    const problem = nameserverProblem(item);
    if (problem !== undefined) throw new UsageError(`${ENV_VARS.resolver}: invalid resolver ${JSON.stringify(item)}: ${problem}`);
  }
  return items;
}

/** Checks a number of seconds given as text (a flag or the environment) with `problemOf`. */
function wholeSeconds(problemOf: (value: unknown) => string | undefined): (value: string) => string {
  return (value) => {
    const problem = problemOf(/^\d+$/.test(value.trim()) ? Number(value.trim()) : value);
    if (problem !== undefined) throw new UsageError(`${problem}, not ${JSON.stringify(value)}`);
    return value.trim();
  };
}

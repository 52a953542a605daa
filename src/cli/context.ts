import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Command } from 'commander';
import type { AcmeClient, AcmeConnector } from '../acme/index.js';
import type { Settings } from '../config/types.js';
import type { Reporter } from '../report.js';
import type { Store } from '../store/index.js';
import { withEnvironment, type GlobalOptions } from './globals.js';
import { stderrReporter, stylesFor, type OutputFlags, type Styles } from './output.js';
import { parsePositive } from './parse.js';

/** What every command handler gets: resolved settings, output, and lazily opened core services. */
export interface CliContext {
  settings: Settings;
  flags: OutputFlags;
  /** True only when a person can answer prompts: a TTY, no -n, not CI. */
  interactive: boolean;
  style: Styles;
  report: Reporter;
  /** The store of the settings, opened once: repaired if an update was interrupted, created if missing. */
  openStore(): Promise<Store>;
  /** The same store for commands that only read: neither created nor repaired, so a read-only user can list. */
  openStoreReadOnly(): Promise<Store>;
  /**
   * Another store than the settings' one (`store migrate`), with the same store keys; Redis keys under `prefix`
   * (default: the settings' prefix). Closed with the others.
   */
  openStoreAt(location: string, options: { readOnly: boolean; prefix?: string }): Promise<Store>;
  /** Lets go of the stores opened (a Redis store's connection, its leases); main.ts calls it when a command ends. */
  close(): Promise<void>;
  connect: AcmeConnector;
  now: Date;
  /** `--timeout` (or CERTMAN_TIMEOUT) in ms when given: what commands that connect elsewhere wait instead of their own default. */
  timeoutGivenMs?: number;
}

/** How long closing the stores may hold up the end of a command. */
const CLOSE_WAIT_MS = 2000;

export async function createContext(command: Command): Promise<CliContext> {
  const globals = withEnvironment(command.optsWithGlobals<GlobalOptions>(), process.env);
  const flags: OutputFlags = { json: globals.json === true, quiet: globals.quiet === true, verbose: globals.verbose === true, color: globals.color };
  const { loadConfigFile, resolveConfigDir, resolveSettings } = await import('../config/index.js');
  const flagValues = {
    ...(globals.configDir === undefined ? {} : { configDir: globals.configDir }),
    ...(globals.store === undefined ? {} : { store: globals.store }),
    ...(globals.storePrefix === undefined ? {} : { storePrefix: globals.storePrefix }),
    ...(globals.storeKeyFile === undefined ? {} : { storeKeyFile: globals.storeKeyFile }),
    ...(globals.storeCaFile === undefined ? {} : { storeCaFile: globals.storeCaFile }),
    ...(globals.server === undefined ? {} : { server: globals.server }),
    ...(globals.caFile === undefined ? {} : { caFile: globals.caFile }),
    ...(globals.maxRetryAfter === undefined ? {} : { maxRetryAfter: globals.maxRetryAfter }),
  };
  const isRoot = process.getuid?.() === 0;
  const base = { flags: flagValues, env: process.env, isRoot };
  // Config is data from the config dir or --config, never from the current folder; root reads only what root alone can change.
  const file = await loadConfigFile({
    configDir: resolveConfigDir(base),
    strict: isRoot,
    ...(globals.config === undefined ? {} : { explicitPath: globals.config }),
  });
  const settings = resolveSettings({ ...base, file });
  const timeoutMs = parsePositive(globals.timeout ?? '30', '--timeout') * 1000;
  const style = await stylesFor(process.stderr, flags, process.env);
  const { isNetworkStore } = await import('../config/store-location.js');
  const network = isNetworkStore(settings.store);
  // As root, a store folder apart from the config dir is held to the same rule: its metadata names the hooks root runs.
  if (isRoot && !network && settings.store !== settings.configDir) await (await import('../config/permissions.js')).checkStoreForRoot(settings.store);
  const opened: Promise<Store>[] = [];
  // As root, the store too uses only what root alone can change: its metadata names the hooks root runs.
  const openAt = (location: string, readOnly: boolean, prefix = settings.storePrefix): Promise<Store> => {
    const store = (async () => {
      const [{ openStore }, { redisOptions }] = await Promise.all([import('../store/index.js'), import('./redis-options.js')]);
      return openStore(location, {
        strict: isRoot,
        readOnly,
        ...(isNetworkStore(location) ? await redisOptions({ ...settings, storePrefix: prefix }, globals.storeKeyFile !== undefined, process.env, isRoot) : {}),
      });
    })();
    opened.push(store);
    return store;
  };
  const stores = new Map<boolean, Promise<Store>>();
  const open = (readOnly: boolean): Promise<Store> => {
    let store = stores.get(readOnly);
    if (store === undefined) {
      store = openAt(settings.store, readOnly);
      stores.set(readOnly, store);
    }
    return store;
  };
  const openStore = () => open(false);
  const report = stderrReporter(flags, style);
  const clients = new Map<string, Promise<AcmeClient>>();
  return {
    settings,
    flags,
    interactive: isInteractive(globals),
    style,
    report,
    openStore,
    openStoreReadOnly: () => open(true),
    openStoreAt: (location, options) => openAt(location, options.readOnly, options.prefix ?? settings.storePrefix),
    close: async () => {
      // A store that failed to open has nothing to close; an unreachable one must not hold the exit up.
      const open = await Promise.all(opened.map((store) => store.catch(() => undefined)));
      const closing = Promise.all(open.map((store) => store?.close?.().catch(() => undefined)));
      await Promise.race([closing, delay(CLOSE_WAIT_MS, undefined, { ref: false })]);
    },
    connect: (options) => {
      // One client per server, account and key for the whole run: concurrent renewals share its directory and nonces.
      // The key counts too: a rollover settled during the run makes the same account sign with another key.
      const key = `${options.server} ${options.accountUrl ?? ''} ${createHash('sha256').update(options.accountKeyPem).digest('base64url')}`;
      let client = clients.get(key);
      if (client === undefined) {
        client = import('../acme/index.js').then(({ connectAcme }) =>
          connectAcme({
            ...options,
            ...(settings.caFile === undefined ? {} : { caFile: settings.caFile }),
            ...(settings.requestsPerSecond === undefined ? {} : { requestsPerSecond: settings.requestsPerSecond }),
            ...(settings.maxRetryAfter === undefined ? {} : { maxRetryAfterMs: settings.maxRetryAfter * 1000 }),
            requestTimeoutMs: timeoutMs,
            // A CA that lost the stored account (a reset) gets it again when that is safe.
            recoverAccount: async (acme, lostUrl) => {
              const { recoverLostAccount } = await import('../registration/account.js');
              return recoverLostAccount(acme, lostUrl, { accounts: await openStore(), report });
            },
          }),
        );
        clients.set(key, client);
      }
      return client;
    },
    now: new Date(),
    ...(globals.timeout === undefined ? {} : { timeoutGivenMs: timeoutMs }),
  };
}

function isInteractive(globals: GlobalOptions): boolean {
  const ci = process.env.CI;
  return globals.nonInteractive !== true && process.stdin.isTTY === true && process.stderr.isTTY === true && (ci === undefined || ci === '' || ci === 'false');
}

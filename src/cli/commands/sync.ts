import type { Command } from 'commander';
import type { SyncDeps, SyncResult } from '../../deploy/sync.js';
import type { WatchEvent } from '../../deploy/watch.js';
import { ExitCode, UsageError, messageOf } from '../../errors.js';
import { hookFailureMessage } from '../../hooks/message.js';
import type { CliContext } from '../context.js';
import { errorJson } from '../output.js';
import { collect, nonEmpty, parsePositive } from '../parse.js';
import type { Runner } from '../program.js';
import type { CommandResult } from '../result.js';
import { noVerifyDeployOption, verificationLine, verifierFor, verifyDeployOption, type VerifyDeployFlag } from '../verify-deploy.js';

interface SyncOptions {
  certName: string[];
  watch?: boolean;
  deployHook?: string;
  fullSyncEvery?: number;
  verifyDeploy?: VerifyDeployFlag;
}

/** With --watch, a full pass this often too (seconds): the safety net for a change the feed did not tell. */
const FULL_SYNC_EVERY_S = 300;

const HELP = `
Writes the live version of every certificate of a shared store (a Redis store) into this host's config dir,
in certbot's layout: live/<name>/{cert,chain,fullchain,privkey}.pem over archive/<name>/ (private keys 0600,
all four files switched at once). A certificate whose files here are already that version is left alone.
The deploy hook (--deploy-hook, or this host's config file hooks.deploy; never one from the store) runs once
per certificate whose files changed, with RENEWED_LINEAGE and RENEWED_DOMAINS as for renew.
A certificate deleted from the store keeps its files here; it is reported as gone.

--watch keeps running: a certificate renewed, issued or deleted on any host is synced within about a second.
After losing Redis it keeps the files it has, warns once, reconnects, and syncs everything again once Redis
is back; it also syncs everything every --full-sync-every seconds. SIGTERM or SIGINT ends it (exit 0).

--verify-deploy (or config verifyDeploy) then checks this host's endpoints (its config endpoints: a shared store
holds none) until they serve each certificate copied; a miss makes sync exit 1. Under --watch a miss is a warning
line and the watch goes on (it waits for the endpoints before the next change is synced).

Examples:
  certman --store redis://10.0.0.5:6379 sync --deploy-hook "systemctl reload nginx"
  certman sync --watch                     # as a service, with CERTMAN_STORE and CERTMAN_STORE_KEY set
  certman sync --cert-name example.com --json`;

export function defineSync(program: Command, run: Runner): void {
  program
    .command('sync')
    .description("write the shared store's current certificates to this host's live/ files; run the deploy hook for those that changed")
    .option('--cert-name <name>', 'only this certificate; repeatable', collect, [])
    .option('--watch', 'keep running and sync each change as it happens (until SIGTERM or SIGINT)')
    .option('--deploy-hook <cmd>', "run per certificate whose files changed; gets RENEWED_LINEAGE, RENEWED_DOMAINS (default: config hooks.deploy)", nonEmpty('--deploy-hook'))
    .option('--full-sync-every <seconds>', `with --watch: also sync everything this often (default ${FULL_SYNC_EVERY_S})`, (v) => parsePositive(v, '--full-sync-every'))
    .addOption(verifyDeployOption("a certificate was copied here and this host's deploy hook ran"))
    .addOption(noVerifyDeployOption())
    .addHelpText('after', HELP)
    .action(run(sync));
}

async function sync(options: SyncOptions, ctx: CliContext): Promise<CommandResult> {
  const [{ assertSyncable, syncAll }, { deployerFor }, { runHook }, { validateName }] = await Promise.all([
    import('../../deploy/sync.js'),
    import('../../deploy/index.js'),
    import('../../hooks/index.js'),
    import('../../store/index.js'),
  ]);
  for (const name of options.certName) validateName(name);
  if (options.watch !== true && options.fullSyncEvery !== undefined) throw new UsageError('--full-sync-every needs --watch');
  const store = await ctx.openStore();
  assertSyncable(store);
  const deployHook = options.deployHook ?? ctx.settings.hooks.deploy;
  // Under --watch, SIGTERM/SIGINT end verifications too (see watch()); a one-off sync has no handler: they end it.
  const controller = new AbortController();
  const verify = await verifierFor(options.verifyDeploy, ctx, store, controller.signal);
  const deps = { store, deployer: deployerFor(store, ctx.settings.configDir), runHook, ...(deployHook === undefined ? {} : { deployHook }), ...(verify === undefined ? {} : { verify }) };
  if (options.watch === true) return watch(options, ctx, deps, controller);
  const results = await syncAll(options.certName, deps);
  const failed = results.some(failedHere);
  const count = (status: SyncResult['status']) => results.filter((r) => r.status === status).length;
  const summary = { copied: count('copied'), unchanged: count('unchanged'), gone: count('gone'), failed: count('failed'), notServed: results.filter((r) => r.status === 'copied' && r.verify?.ok === false).length };
  return {
    exitCode: failed ? ExitCode.FAILURE : ExitCode.OK,
    json: { summary, results: results.map(resultJson) },
    human: (s) => [
      ...results.map((r) => {
        const line = resultLine(r);
        return failedHere(r) ? s.bad(line) : r.status === 'copied' ? s.ok(line) : s.dim(line);
      }),
      results.length === 0
        ? 'No certificates in the store.'
        : `${summary.copied} copied${summary.notServed > 0 ? ` (${summary.notServed} not served)` : ''}, ${summary.unchanged} unchanged, ${summary.gone} gone from the store, ${summary.failed} failed`,
    ],
  };
}

async function watch(options: SyncOptions, ctx: CliContext, deps: SyncDeps, controller: AbortController): Promise<CommandResult> {
  const { watchAndSync } = await import('../../deploy/watch.js');
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    stoppedBy ??= sig;
    controller.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // Events of a long-running process: one line each on stderr (stdout keeps the final --json document).
  const say = (line: string) => {
    if (!ctx.flags.quiet) process.stderr.write(`${line}\n`);
  };
  say(`sync watching ${deps.store.location} for changes (files in ${ctx.settings.configDir})`);
  try {
    const summary = await watchAndSync(
      {
        selection: options.certName,
        fullPassEveryMs: (options.fullSyncEvery ?? FULL_SYNC_EVERY_S) * 1000,
        signal: controller.signal,
        onEvent: (event) => watchLine(event, say, (message) => ctx.report.warn(message)),
      },
      deps,
    );
    say(`sync stopped (${stoppedBy ?? 'done'}): ${summary.copied} copied, ${summary.failed} failed in ${summary.passes} passes`);
    return { exitCode: ExitCode.OK, json: { stopped: stoppedBy ?? null, ...summary }, human: () => [] };
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

function watchLine(event: WatchEvent, say: (line: string) => void, warn: (message: string) => void): void {
  switch (event.kind) {
    case 'result':
      // A certificate its endpoints do not serve is a warning: the watch goes on (the next change verifies again).
      if (failedHere(event.result)) warn(resultLine(event.result));
      else say(resultLine(event.result));
      return;
    case 'down':
      warn(`lost the store (${messageOf(event.error)}): the files here stay as they are; reconnecting`);
      return;
    case 'up':
      say('store reachable again: syncing everything');
      return;
    case 'pass-failed':
      warn(`cannot sync: ${messageOf(event.error)}; trying again`);
      return;
  }
}


/** Failed, or copied but its deploy hook failed or its endpoints did not serve it. */
function failedHere(r: SyncResult): boolean {
  return r.status === 'failed' || (r.status === 'copied' && (r.hook?.ok === false || r.verify?.ok === false));
}

function resultLine(r: SyncResult): string {
  switch (r.status) {
    case 'copied': {
      const hook = r.hook === undefined ? '' : r.hook.ok ? ', deploy hook ok' : `; ${hookFailureMessage('deploy', r.hook)}`;
      const verified = r.verify === undefined ? '' : `; ${verificationLine(r.name, r.verify)}`;
      return `copied    ${r.name} (serial ${r.serial}) to ${r.dir}${hook}${verified}`;
    }
    case 'unchanged':
      return `unchanged ${r.name} (serial ${r.serial})`;
    case 'gone':
      return `gone      ${r.name}: no longer in the store; its files in ${r.dir} are left as they are`;
    case 'failed':
      return `failed    ${r.name}: ${messageOf(r.error)}`;
  }
}

function resultJson(r: SyncResult) {
  switch (r.status) {
    case 'copied':
      return {
        name: r.name,
        status: r.status,
        serial: r.serial,
        path: r.dir,
        ...(r.hook === undefined ? {} : { hook: { command: r.hook.command, ok: r.hook.ok, exitCode: r.hook.exitCode, signal: r.hook.signal, output: r.hook.output } }),
        ...(r.verify === undefined ? {} : { verify: r.verify }),
      };
    case 'unchanged':
      return { name: r.name, status: r.status, serial: r.serial, path: r.dir };
    case 'gone':
      return { name: r.name, status: r.status, path: r.dir };
    case 'failed':
      return { name: r.name, status: r.status, error: errorJson(r.error) };
  }
}

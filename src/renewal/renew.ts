import type { AcmeConnector } from '../acme/index.js';
import { issueCertificate } from '../certificate/issue.js';
import { leaseLineage } from '../certificate/lease.js';
import type { ObtainInput } from '../certificate/obtain.js';
import { ResponderPool } from '../challenge/index.js';
import { mapLimit } from '../concurrency.js';
import { AcmeProblemError, BudgetDeferral, CertmanError, LeaseLostError, LockedError, NetworkError, RateLimitPause, UsageError } from '../errors.js';
import { deployHookEnv, hookDirOf, hookFailureMessage, postHookEnv, runHook, runHookFolder, type HookDirKind, type HookOutcome } from '../hooks/index.js';
import type { Reporter } from '../report.js';
import { CorruptFileError } from '../store/index.js';
import type { Deployer } from '../deploy/index.js';
import type { AccountStore, CertificateStore, Lease, LeaseStore, StateStore, StoredAccount, StoreProblem } from '../store/types.js';
import type { CertificateMeta, HookCommands } from '../lineage/types.js';
import { copyPathsOnThisNode, methodOnThisNode, type NodeSettings } from '../lineage/node-local.js';
import { ariCertId } from '../acme/ari.js';
import { isRateLimited, rateLimitedUntil } from '../acme/rate-limited.js';
import { refreshAriStates } from './ari-refresh.js';
import { CaBudget, type CaBudgetOptions, type Deferral } from './ca-budget.js';
import { certificateStatus, duePolicy, renewalWindow, type DueOptions, type RenewalWindow } from '../lineage/due.js';
import { pausedReason } from './rate-limits.js';
import { recordAttempt } from './attempts.js';
import { dryRunIsReal, dryRunServerFor } from '../config/defaults.js';
import { withVerifications, type DeployVerification, type DeployVerifier } from '../served/verify-deploy.js';

export interface RenewOptions extends CaBudgetOptions {
  /** Only these lineages; all when empty. */
  names: string[];
  /** Renew even when not due. */
  force: boolean;
  due: DueOptions;
  now: Date;
  /** Certificates renewed at the same time. */
  concurrency: number;
  /** At most this many renewals in one run; the rest wait for the next run. */
  max?: number;
  /** Sleep a random 1..N ms before the first renewal (0: none), so fleets do not hit the CA together. */
  randomSleepMs: number;
  /** Wait for another run's lease on a certificate instead of reporting it as held. */
  wait?: boolean;
  /** Length of each certificate lease (how long a stalled or dead run blocks others); the store's default otherwise. */
  leaseMs?: number;
  /** Hooks given for this run: override (and replace) each certificate's stored ones. */
  hooks: HookCommands;
  /** This host's own hooks, webroot and port: see sharedStore. */
  node: NodeSettings;
  /**
   * The store is not this host's config dir (it may be shared): hooks stored with a certificate are then never run
   * and none are saved, and of its stored method only the kind counts (whoever can write a shared store must not
   * choose the commands and folders of hosts); `node` gives the rest, under the run's `hooks`.
   */
  sharedStore: boolean;
  /**
   * certbot's hook folders in this host's config dir (renewal-hooks/{pre,deploy,post}/), run before the hooks of
   * the same kind; `strict` (root): folders and files others can change are refused. None when undefined.
   */
  hookDirs?: { configDir: string; strict: boolean };
  /**
   * Full orders, nothing saved, no deploy hooks: at the staging CA of each lineage's CA when one is known, else at
   * `server` (config dryRunServer) when given, else at the lineage's own CA (see dryRunServerFor): a real
   * certificate then, which the run warns about once per CA.
   */
  dryRun?: { server?: string };
  /**
   * DNS gate (src/dns/gate.ts): checked before anything is sent to `server` (whose CAA identity it may
   * use); renews only the `passed` names, fails on any `failed`.
   */
  dnsGate?: (names: string[], server: string) => Promise<{ passed: string[]; failed: { name: string; reason?: string }[] }>;
}

export interface RenewDeps {
  store: CertificateStore & AccountStore & StateStore & LeaseStore;
  /** Names (or writes) the files web servers read: RENEWED_LINEAGE comes from it. */
  deployer: Deployer;
  connect: AcmeConnector;
  report: Reporter;
  /** Account for a server; `dryRunElsewhere`: a dry run at a CA other than the lineage's, which may register one. */
  accountFor(server: string, dryRunElsewhere: boolean): Promise<StoredAccount>;
  sleep(ms: number): Promise<void>;
  random(): number;
  /** Checks each published token before the CA is asked (see ObtainInput.selfCheck); off when undefined. */
  selfCheck?: ObtainInput['selfCheck'];
  /** Responders for the run (the CLI's knows the token store of `--responder`); one pool is made otherwise. */
  responders?: ResponderPool;
  /**
   * Ctrl-C or SIGTERM: nothing new is started, orders in flight stop at their next step (see
   * ObtainInput.signal), and the run ends normally: budget saved, post-hooks run if pre-hooks did.
   * `sleep` should return early when it fires.
   */
  signal?: AbortSignal;
  /**
   * --verify-deploy: asked, once the renewals and their deploy hooks are done (before the post-hooks), what the
   * endpoints of the certificates renewed (not in a dry run: nothing is deployed) serve. A miss is in FAILED_DOMAINS
   * but is not a failed renewal: the CA issued it, so neither its backoff nor the CA budget counts it.
   */
  verifyDeploy?: DeployVerifier;
}

export type RenewResult =
  /** `verify`: what its endpoints served, when --verify-deploy asked. */
  | { name: string; status: 'renewed'; meta: CertificateMeta; previousSerial: string; dryRun: boolean; verify?: DeployVerification }
  | { name: string; status: 'not-due'; window: RenewalWindow }
  | { name: string; status: 'deferred'; reason: string; until?: Date }
  | { name: string; status: 'skipped'; reason: string }
  /** Another run holds the certificate's lease (it is renewing it, or deleting it). */
  | { name: string; status: 'held'; reason: string }
  | { name: string; status: 'failed'; error: Error };

export interface RenewRun {
  results: RenewResult[];
  hooks: (HookOutcome & { kind: 'pre' | 'post' | 'deploy'; certificate?: string })[];
  sleptMs: number;
  /** The signal fired during the run (the CLI exits 130); what it stopped is `skipped` as interrupted. */
  interrupted: boolean;
  /** Renewed certificates whose copies (--cert-path & co.) failed: reported like failed hooks. */
  copyProblems: string[];
}


/**
 * Renews every certificate that is due, repeating how it was issued. Certificates are independent:
 * one failure is recorded and the others go on; a failed one keeps its live files untouched.
 */
export async function renewCertificates(options: RenewOptions, deps: RenewDeps): Promise<RenewRun> {
  const { report } = deps;
  const { metas, unusable } = await selectCertificates(options.names, deps.store);
  const selected = await refreshAriStates(metas, deps, options.now, options.concurrency);
  const budget = await CaBudget.load(deps.store, options, new Date());
  for (const problem of budget.problems) report.warn(problem);
  const results = new Map<string, RenewResult>();
  const due: CertificateMeta[] = [];
  for (const meta of selected) {
    const server = serverOf(meta, options);
    const decided = decide(meta, options) ?? budgetDeferral(meta, server, await accountUrl(server, deps.store), budget, options);
    if (decided === undefined) due.push(meta);
    else results.set(meta.name, decided);
  }
  const capped = options.max === undefined ? due : due.slice(0, options.max);
  for (const meta of due.slice(capped.length)) {
    results.set(meta.name, { name: meta.name, status: 'deferred', reason: `over --max ${options.max}: next run` });
  }

  const run: RenewRun = { results: [], hooks: [], sleptMs: 0, interrupted: false, copyProblems: [] };
  // Said once per CA, before anything is ordered: a dry run without a staging CA is a real order.
  const realDryRuns = capped.filter((meta) => options.dryRun !== undefined && dryRunIsReal(meta.server, serverOf(meta, options)));
  for (const server of distinct(realDryRuns.map((meta) => meta.server))) report.warn(`dry run at ${server} itself: a real certificate, counted by its rate limits`);
  if (capped.length > 0) {
    if (options.randomSleepMs > 0) {
      run.sleptMs = Math.max(1, Math.round(deps.random() * options.randomSleepMs));
      report.step(`sleeping ${Math.round(run.sleptMs / 1000)} s before renewing, to spread load on the CA`);
      await deps.sleep(run.sleptMs);
    }
    // Interrupted while sleeping: nothing was attempted, so no hooks either.
    const outcomes = deps.signal?.aborted === true ? capped.map(notStarted) : await renewWithHooks(capped, options, deps, budget, run);
    for (const outcome of outcomes) results.set(outcome.name, outcome);
  }
  run.interrupted = deps.signal?.aborted === true;
  run.results = selected.map((meta) => results.get(meta.name)).filter((r): r is RenewResult => r !== undefined);
  // Metadata that cannot be used (damaged, or as root changeable by others): failed, and nothing of it runs.
  run.results.push(...unusable.map(({ name, error }): RenewResult => ({ name, status: 'failed', error })));
  return run;
}

/**
 * The renewals (a few at a time, each holding its certificate's lease), the failed-validation records, then post-hooks
 * with what happened. Pre-hooks run once, before the first certificate that is really renewed: none when
 * every one was held by another run or found renewed meanwhile.
 */
async function renewWithHooks(capped: CertificateMeta[], options: RenewOptions, deps: RenewDeps, budget: CaBudget, run: RenewRun): Promise<RenewResult[]> {
  let preHooks: Promise<void> | undefined;
  const beforeRenewal = (): Promise<void> =>
    (preHooks ??= (async () => {
      const ran = await runHookDir('pre', {}, options, deps, run);
      for (const command of notRun(capped.map((meta) => hooksOf(meta, options).pre), ran)) {
        run.hooks.push({ kind: 'pre', ...(await runHook(command, {})) });
      }
    })());
  const responders = deps.responders ?? new ResponderPool();
  const renewals = await mapLimit(capped, options.concurrency, (meta) =>
    deps.signal?.aborted === true ? Promise.resolve(notStarted(meta)) : renewLeased(meta, options, { ...deps, responders }, budget, run, beforeRenewal),
  );
  // A store that cannot take the records (a full disk) costs the run neither its summary nor its post-hooks.
  await budget.saveFailures(deps.report);
  const outcomes = await withVerification(renewals, deps.verifyDeploy);
  const renewed = outcomes.filter((r) => r.status === 'renewed');
  const failed = outcomes.filter((r) => r.status === 'failed' || notServed(r));
  const domainsOf = (list: RenewResult[]) => list.flatMap((r) => capped.find((m) => m.name === r.name)?.domains ?? []);
  if (preHooks === undefined) return outcomes; // nothing was attempted: no post-hooks either
  const postEnv = postHookEnv(domainsOf(renewed), domainsOf(failed));
  const ran = await runHookDir('post', postEnv, options, deps, run);
  for (const command of notRun(capped.map((meta) => hooksOf(meta, options).post), ran)) {
    run.hooks.push({ kind: 'post', ...(await runHook(command, postEnv)) });
  }
  return outcomes;
}

/** The renewals, each deployed one with what its endpoints served (see RenewDeps.verifyDeploy). */
function withVerification(outcomes: RenewResult[], verifier: DeployVerifier | undefined): Promise<RenewResult[]> {
  const deployed = outcomes.flatMap((r) => (r.status === 'renewed' && !r.dryRun ? [r.meta] : []));
  return withVerifications(outcomes, deployed, verifier, (r, verify) => (r.status === 'renewed' ? { ...r, verify } : r));
}

/** Renewed, but --verify-deploy found its endpoints not serving it: a failure of the run, not of the renewal. */
export function notServed(r: RenewResult): boolean {
  return r.status === 'renewed' && r.verify?.ok === false;
}

function serverOf(meta: CertificateMeta, options: RenewOptions): string {
  return options.dryRun === undefined ? meta.server : dryRunServerFor(meta.server, options.dryRun.server);
}

/**
 * Deferred while the CA account that would renew `meta` may not order its names: the CA rate-limited it, or the
 * fleet's budget of failed validations or new orders is spent (records from this or an earlier run, on any node);
 * or while its own renewal backs off after failing (not for --force, and a dry run neither reads nor writes it).
 */
function budgetDeferral(meta: CertificateMeta, server: string, account: string | undefined, budget: CaBudget, options: RenewOptions): RenewResult | undefined {
  const deferral = budget.certificateDeferral(meta, server, account, new Date(), ignoresBackoff(options));
  return deferral === undefined ? undefined : deferredBy(meta, deferral);
}

function ignoresBackoff(options: RenewOptions): boolean {
  return options.force || options.dryRun !== undefined;
}

/** The URL of the account that renews with `server`; undefined before a dry-run server's first registration. */
async function accountUrl(server: string, accounts: AccountStore): Promise<string | undefined> {
  return (await accounts.getAccount(server))?.url;
}

function deferredBy(meta: CertificateMeta, deferral: Deferral): RenewResult {
  return { name: meta.name, status: 'deferred', reason: deferral.reason, until: deferral.until };
}

function notStarted(meta: CertificateMeta): RenewResult {
  return { name: meta.name, status: 'skipped', reason: 'interrupted before it started' };
}

/** Undefined when the certificate should be renewed now; otherwise why not. */
function decide(meta: CertificateMeta, options: RenewOptions): RenewResult | undefined {
  const policy = duePolicy(meta, options.due);
  const status = certificateStatus(meta, options.now, policy);
  // A revoked certificate was retired on purpose: renew it only when asked for by name.
  if (status === 'revoked' && !(options.force && options.names.includes(meta.name))) {
    return { name: meta.name, status: 'skipped', reason: 'revoked (renew it with --cert-name and --force, or delete it)' };
  }
  if (!options.force && status === 'valid') return { name: meta.name, status: 'not-due', window: renewalWindow(meta, policy) };
  return undefined;
}

type RunDeps = RenewDeps & Required<Pick<RenewDeps, 'responders'>>;

/**
 * Renews one certificate holding its lease. Another run may have renewed it between this run's decision and
 * the lease, so it is decided again from what is stored then (with --force: renewed only if that is still the
 * certificate this run listed).
 */
async function renewLeased(meta: CertificateMeta, options: RenewOptions, deps: RunDeps, budget: CaBudget, run: RenewRun, beforeRenewal: () => Promise<void>): Promise<RenewResult> {
  let lease: Lease;
  try {
    const leaseOptions = { wait: options.wait === true, ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }), ...(deps.signal === undefined ? {} : { signal: deps.signal }) };
    lease = await leaseLineage(deps.store, meta.name, leaseOptions, deps.report);
  } catch (err) {
    if (err instanceof LockedError) return { name: meta.name, status: 'held', reason: err.message };
    if (deps.signal?.aborted === true) return notStarted(meta);
    return { name: meta.name, status: 'failed', error: err as Error };
  }
  try {
    const current = await deps.store.get(meta.name);
    if (current === undefined) return { name: meta.name, status: 'skipped', reason: 'deleted by another run meanwhile' };
    // --force ignores due-ness, so only the serial tells that another run (another node) renewed it since this
    // run listed it: renewing again would spend a second order at the CA for the same request.
    if (options.force && current.serial !== meta.serial) {
      return { name: meta.name, status: 'skipped', reason: `renewed by another run since this one started (serial ${current.serial})` };
    }
    const server = serverOf(current, options);
    // Another run (or host) may have failed it since this run read the backoff, before its random sleep.
    if (!ignoresBackoff(options)) await budget.backoff.reload();
    const decided = decide(current, options) ?? budgetDeferral(current, server, await accountUrl(server, deps.store), budget, options);
    if (decided !== undefined) return decided;
    await beforeRenewal();
    const sent = { order: false };
    const outcome = await renewOne(current, options, deps, budget, run, lease, sent);
    if (outcome.status === 'failed' && options.dryRun === undefined && backsOff(outcome.error, sent.order)) {
      await budget.recordRenewalFailure(current, outcome.error, new Date(), deps.report);
    }
    if (options.dryRun === undefined && (outcome.status === 'renewed' || outcome.status === 'failed')) {
      await recordAttempt(deps.store, current.name, outcome.status === 'renewed' ? 'success' : 'failure', new Date(), deps.report);
    }
    return outcome;
  } catch (err) {
    return { name: meta.name, status: 'failed', error: err as Error };
  } finally {
    await lease.release();
  }
}

/**
 * Whether a failed renewal backs the next one off: when its order went to the CA, or the CA answered or could not
 * be reached before. A failure of this host (DNS check or --expect-ip refusing, a busy port, a missing webroot)
 * sent nothing: it fails every run until fixed, unslowed, and must not hold back the fleet's other hosts. A lost
 * lease is another run's business, not a failure of this one.
 */
function backsOff(err: Error, orderSent: boolean): boolean {
  if (err instanceof LeaseLostError) return false;
  return orderSent || err instanceof AcmeProblemError || err instanceof NetworkError;
}

/** `sent.order` is set once the order goes to the CA. */
async function renewOne(meta: CertificateMeta, options: RenewOptions, deps: RunDeps, budget: CaBudget, run: RenewRun, lease: Lease, sent: { order: boolean }): Promise<RenewResult> {
  // A lost lease stops this certificate's order like an interrupt, and its save refuses.
  const signal = deps.signal === undefined ? lease.signal : AbortSignal.any([deps.signal, lease.signal]);
  const server = serverOf(meta, options);
  const hooks = hooksOf(meta, options);
  let accountUrl: string | undefined;
  try {
    let domains = meta.domains;
    if (options.dnsGate !== undefined) {
      const gate = await options.dnsGate(meta.domains, server);
      if (gate.failed.length > 0 || gate.passed.length === 0) {
        const reasons = gate.failed.map((f) => `${f.name}: ${f.reason ?? 'DNS check failed'}`).join('; ');
        return { name: meta.name, status: 'failed', error: new CertmanError(`DNS check failed, nothing was sent to the CA: ${reasons}`) };
      }
      domains = gate.passed;
    }
    const account = await deps.accountFor(server, server !== meta.server);
    accountUrl = account.url;
    // Another renewal of this run was just rate-limited, or spent the account's budget.
    const deferral = budget.deferral(server, account.url, domains, new Date());
    if (deferral !== undefined) return deferredBy(meta, deferral);
    // RFC 9773 §5: tell an ARI-speaking CA which certificate this order replaces.
    const replaces = meta.ari !== undefined && options.dryRun === undefined ? await ariCertId((await deps.store.readFiles(meta.name)).cert) : undefined;
    deps.report.step(options.dryRun === undefined ? `renewing ${meta.name}` : `dry run for ${meta.name} at ${server}`);
    const { copyTo: _stored, ...request } = meta;
    const copyTo = copyPathsOnThisNode(meta, options.sharedStore);
    const outcome = await issueCertificate(
      { ...request, ...(copyTo === undefined ? {} : { copyTo }), method: methodOnThisNode(meta, options.node, options.sharedStore), domains, server, force: true, ...(isEmpty(hooks) ? { hooks: undefined } : { hooks }) },
      {
        store: deps.store,
        deployer: deps.deployer,
        lease,
        account,
        connect: deps.connect,
        report: deps.report,
        now: options.now,
        dryRun: options.dryRun !== undefined,
        sharedStore: options.sharedStore,
        responders: deps.responders,
        ...(deps.selfCheck === undefined ? {} : { selfCheck: deps.selfCheck }),
        ...(replaces === undefined ? {} : { replaces }),
        budget,
        signal,
        orderSent: () => {
          sent.order = true;
        },
      },
    );
    if (outcome.status === 'issued' && outcome.copyProblem !== undefined) run.copyProblems.push(`${meta.name}: renewed, but ${outcome.copyProblem}`);
    if (options.dryRun === undefined) {
      // The names of the certificate just issued (a renewal may have changed them).
      const env = deployHookEnv(outcome.deployed.dir, outcome.meta.domains);
      const ran = await runHookDir('deploy', env, options, deps, run, meta.name);
      if (hooks.deploy !== undefined && !ran.includes(hooks.deploy)) run.hooks.push({ kind: 'deploy', certificate: meta.name, ...(await runHook(hooks.deploy, env)) });
    }
    return { name: meta.name, status: 'renewed', meta: outcome.meta, previousSerial: meta.serial, dryRun: options.dryRun !== undefined };
  } catch (err) {
    if (err instanceof LeaseLostError) return { name: meta.name, status: 'failed', error: err };
    if (deps.signal?.aborted === true && err === deps.signal.reason) {
      return { name: meta.name, status: 'skipped', reason: 'interrupted; its live files are untouched' };
    }
    // An order in flight when the CA rate-limited the account stops at its next request: the first one reports it.
    if (err instanceof RateLimitPause) {
      return deferredBy(meta, { reason: pausedReason({ server: err.server, account: err.account, until: err.until.toISOString(), detail: err.detail }), until: err.until });
    }
    // The account's last new order was spent (by another node or renewal) since the check above.
    if (err instanceof BudgetDeferral) return deferredBy(meta, err);
    if (isRateLimited(err) && accountUrl !== undefined) {
      await budget.rateLimits
        .record(server, accountUrl, rateLimitedUntil(err, new Date()), err.detail, new Date())
        .catch((saveErr: unknown) => deps.report.warn(`could not save the CA's rate limit: ${(saveErr as Error).message}`));
    }
    return { name: meta.name, status: 'failed', error: err as Error };
  }
}

/** Runs one of certbot's hook folders (see runHookFolder) into the run's hooks; returns the paths run. */
async function runHookDir(kind: HookDirKind, env: Record<string, string>, options: RenewOptions, deps: RenewDeps, run: RenewRun, certificate?: string): Promise<string[]> {
  if (options.hookDirs === undefined) return [];
  const of = certificate === undefined ? {} : { certificate };
  const { outcomes, ran } = await runHookFolder(hookDirOf(options.hookDirs.configDir, kind), env, { strict: options.hookDirs.strict, report: deps.report });
  for (const outcome of outcomes) run.hooks.push({ kind, ...of, ...outcome });
  return ran;
}

/** The distinct commands, less those a hook folder ran already. */
function notRun(commands: (string | undefined)[], ran: readonly string[]): string[] {
  return distinct(commands).filter((command) => !ran.includes(command));
}

/** The certificate's stored hooks (or this host's, see sharedStore), overridden by the ones given to this run. */
function hooksOf(meta: CertificateMeta, options: RenewOptions): HookCommands {
  return { ...(options.sharedStore ? options.node.hooks : meta.hooks), ...options.hooks };
}

function distinct(commands: (string | undefined)[]): string[] {
  return [...new Set(commands.filter((c): c is string => c !== undefined && c !== ''))];
}

function isEmpty(hooks: HookCommands): boolean {
  return hooks.pre === undefined && hooks.post === undefined && hooks.deploy === undefined;
}

/**
 * The certificates `renew --cert-name` selects (all when `names` is empty), and those of them whose metadata
 * cannot be used; an unknown or invalid name is a UsageError.
 */
export async function selectCertificates(names: string[], store: CertificateStore): Promise<{ metas: CertificateMeta[]; unusable: StoreProblem[] }> {
  if (names.length === 0) return { metas: (await store.list()).sort((a, b) => a.name.localeCompare(b.name)), unusable: store.problemDetails() };
  const unusable: StoreProblem[] = [];
  const metas = await Promise.all(
    names.map((name) =>
      store.get(name).catch((err: unknown) => {
        if (!(err instanceof CorruptFileError)) throw err;
        unusable.push(err.asProblem(name));
        return null;
      }),
    ),
  );
  const missing = names.filter((_, i) => metas[i] === undefined);
  if (missing.length > 0) throw new UsageError(`no certificate named ${missing.join(', ')}`, 'see certman certificates');
  return { metas: metas.filter((meta): meta is CertificateMeta => meta !== undefined && meta !== null), unusable };
}

export function hookFailures(run: RenewRun): string[] {
  return [...run.copyProblems, ...run.hooks.filter((h) => !h.ok).map((h) => hookFailureMessage(h.kind, h))];
}

import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { IssueOutcome } from '../../certificate/issue.js';
import { BudgetDeferral, ExitCode, UsageError } from '../../errors.js';
import { hookFailureMessage } from '../../hooks/message.js';
import type { Lease, Store } from '../../store/index.js';
import { methodOnThisNode } from '../../lineage/node-local.js';
import type { CertificateMeta, ChallengeMethod, HookCommands, KeySpec, WebrootMap } from '../../lineage/types.js';
import { accountForIssue, noEmailOption, type AccountFlags } from '../account-setup.js';
import type { CliContext } from '../context.js';
import { leaseLength, portLocks } from '../lease.js';
import { managedFolders, thisNode } from '../node.js';
import type { Interrupt } from '../interrupt.js';
import { addSelfCheckOptions, selfCheckFor, type SelfCheckFlags } from '../self-check.js';
import { BUDGET_HELP } from '../budget-options.js';
import type { HookRun } from '../order-hooks.js';
import { dueOptions } from '../due-options.js';
import { formatDate } from '../format.js';
import { collect, nonEmpty, parseEmail, parsePort, parsePreferredChain, parseProfile } from '../parse.js';
import { expectCnameOption, expectIpOption } from '../expect-options.js';
import { endpointOption } from '../endpoint-options.js';
import { addCertbotRenewalSpellings, deployHookOf, parsePreferredChallenges, testCertServer, type CertbotHookFlags } from '../certbot-spellings.js';
import type { WebrootFlag } from '../../challenge/webroot-map.js';
import type { Runner } from '../program.js';
import type { CommandResult } from '../result.js';

export interface IssueOptions extends AccountFlags, SelfCheckFlags, CertbotHookFlags {
  domain: string[];
  certName?: string;
  webroot?: string;
  standalone?: boolean;
  responder?: boolean;
  httpPort?: number;
  httpAddress?: string;
  keyType?: 'ecdsa' | 'rsa';
  ellipticCurve?: 'p256' | 'p384';
  rsaKeySize?: '2048' | '3072' | '4096';
  reuseKey?: boolean;
  force?: boolean;
  preHook?: string;
  postHook?: string;
  deployHook?: string;
  /** false with --no-directory-hooks (commander's default is true). */
  directoryHooks?: boolean;
  verifyDns?: boolean;
  expectIp: string[];
  expectCname: string[];
  allowSubsetOfNames?: boolean;
  wait?: boolean;
  /** false: --no-profile. */
  profile?: string | false;
  /** Given endpoints (empty: none given); false: --no-endpoint. */
  endpoint: string[] | false;
  allowPrivateIp?: boolean;
  preferredChain?: string;
  testCert?: boolean;
  certPath?: string;
  keyPath?: string;
  fullchainPath?: string;
  chainPath?: string;
  csr?: string;
  keepUntilExpiring?: boolean;
  /** Every -w in order, with how many -d came before it (certbot's several webroots; see webroot-map.ts). */
  webrootFlags?: WebrootFlag[];
  /** What webrootFlags make of the -d names (issueFlow). */
  webroots?: WebrootMap;
}

export function defineIssue(program: Command, run: Runner): void {
  // certbot's several webroots: which -d came after which -w (commander keeps no order across options).
  const webrootFlags: WebrootFlag[] = [];
  /** Every -d and --domains value in command-line order. */
  const domainValues: string[] = [];
  const webrootFolder = (flag: string) => (value: string) => {
    const dir = resolve(nonEmpty(flag)(value));
    webrootFlags.push({ dir, domainFlagsBefore: domainValues.length });
    return dir;
  };
  const command = addSelfCheckOptions(program.command('issue').alias('certonly'))
    .description('get a certificate for one or more names (HTTP-01)')
    .option('-d, --domain <name>', 'a name to include; repeat or separate with commas (first one is the common name)', (value: string, previous: string[]) => {
      domainValues.push(value);
      return collect(value, previous);
    }, [])
    .option('--domains <names>', "certbot's spelling of -d", (value: string) => {
      domainValues.push(value);
      return value;
    })
    .option('--cert-name <name>', 'the certificate\'s name under live/ (default: the first domain)')
    .option('--webroot [dir]', 'publish tokens under <dir>/.well-known/acme-challenge/ for the running web server (without <dir>: the -w folders, or config webroot)', webrootFolder('--webroot'))
    .option('-w, --webroot-path <dir>', "a webroot folder, certbot's spelling; with several -w, each -d uses the -w before it", webrootFolder('-w'))
    .option('--standalone', 'answer challenges with a built-in HTTP server for the length of the order')
    .option('--responder', 'publish tokens to the store\'s token store for a running `certman serve-challenge`')
    .option('--http-port <port>', 'standalone server port (default 80, config httpPort)', (v) => parsePort(v))
    .option('--http-address <ip>', 'standalone server address (default: all)')
    .option('--http-01-port <port>', "certbot's spelling of --http-port", (v) => parsePort(v, '--http-01-port'))
    .option('--preferred-challenges <types>', "certbot's flag: certman answers HTTP-01 only, so the list must include http (exit 2 otherwise)", parsePreferredChallenges)
    .option('--no-self-upgrade', 'accepted for certbot-auto cron lines: certman never upgrades itself')
    .addOption(new Option('--key-type <type>', 'private key type (default ecdsa)').choices(['ecdsa', 'rsa']))
    .addOption(new Option('--elliptic-curve <curve>', 'ECDSA curve (default p256)').choices(['p256', 'p384']))
    .addOption(new Option('--rsa-key-size <bits>', 'RSA key size (default 2048)').choices(['2048', '3072', '4096']))
    .option('--reuse-key', 'keep the private key across renewals')
    .option('--force', 'order even if an unexpired certificate for these names is not due yet')
    .option('--keep-until-expiring', "certbot's spelling of the default: keep a certificate that is not due yet")
    .addOption(new Option('--keep', 'same as --keep-until-expiring').implies({ keepUntilExpiring: true }))
    .option('--expand', "certbot's flag for adding names to a certificate; certman replaces the certificate of --cert-name (default: the first name) anyway")
    .option('--test-cert', 'order at the staging CA (config dryRunServer, default letsencrypt-staging); exit 2 with a --server that is another CA')
    .addOption(new Option('--staging', 'same as --test-cert').implies({ testCert: true }))
    .option('--wait', 'wait for another running certman instead of exiting (exit 75)')
    .option('--csr <file>', "order for this certificate signing request (PEM or DER) as certbot's certonly --csr: the names are the CSR's, no key and no certificate are stored; written to --cert-path/--chain-path/--fullchain-path, by default new ./NNNN_cert.pem and ./NNNN_chain.pem files")
    .option('--cert-path <file>', 'also copy the certificate here after saving (the folder must exist); saved for renew, like the three below, unless the store is apart from the config dir')
    .option('--key-path <file>', 'also copy the private key here (mode 0600)')
    .option('--fullchain-path <file>', 'also copy the certificate and chain here')
    .option('--chain-path <file>', 'also copy the chain here')
    .option('--pre-hook <cmd>', 'run before ordering; saved for renew (not in a store apart from the config dir: there each host\'s config file gives hooks)')
    .option('--post-hook <cmd>', 'run after the order, success or not; saved for renew like --pre-hook')
    .option('--deploy-hook <cmd>', 'run after the certificate is saved (RENEWED_LINEAGE, RENEWED_DOMAINS); saved for renew like --pre-hook')
    .option('--no-directory-hooks', 'when this renews an existing certificate, do not run <config-dir>/renewal-hooks/deploy/ (certbot runs it then)')
    .option('-m, --email <address>', 'register first if there is no account, with this contact', parseEmail)
    .addOption(noEmailOption('register first if there is no account, without a contact'))
    .option('--agree-tos', "agree to the CA's terms of service when registering")
    .option('--eab-kid <kid>', 'external account binding key id, when registering')
    .option('--eab-hmac-key <key>', 'external account binding HMAC key, when registering')
    .option('--verify-dns', 'check DNS and CAA first (always on when config expectIp/expectCname is set); failing names are not sent to the CA')
    .addOption(expectIpOption())
    .addOption(expectCnameOption())
    .option('--allow-subset-of-names', 'drop names that fail the DNS check instead of stopping')
    .option('--profile <name>', "the CA's certificate profile (one of its directory's meta.profiles; config profile, read by issue only); saved, and renew orders the saved one; one that differs from the saved one orders now", parseProfile)
    .option('--no-profile', "no profile: the CA's default (an IP address still gets shortlived when offered); forgets a saved profile and config profile")
    .addOption(endpointOption("where this certificate is served, for `certman check` and --verify-deploy: repeat or separate with commas (port 443 by default); saved, replacing config endpoints for it; not in a store apart from the config dir"))
    .option('--no-endpoint', 'forget the endpoints saved with this certificate: config endpoints (or its names on port 443) apply again')
    .option('--allow-private-ip', 'allow private, loopback and link-local addresses as -d (a CA inside your network; always allowed for a CA on this machine)')
    .option('--preferred-chain <name>', "of the CA's chains, take the one whose topmost certificate <name> issued (issuer common name, certbot's rule; default chain when none matches); saved for renew (config preferredChain)", parsePreferredChain)
    .addHelpText('after', BUDGET_HELP)
    .addHelpText(
      'after',
      '\nExamples:\n  certman issue -d example.com -d www.example.com --webroot /var/www/html\n  certman issue -d example.com --standalone --http-port 8080\n' +
        '  certman issue -d 203.0.113.7 -d 2001:db8::1 --standalone   # IP addresses (RFC 8738): shortlived when the CA offers it',
    )
    .action(run((options: ParsedIssueOptions, ctx) => issue(fromCertbotSpellings(options, { webrootFlags, domainValues }, ctx), ctx)));
  addCertbotRenewalSpellings(command);
}

/** As commander parses them: certbot's `--webroot` alone only chooses the method, the folders come from -w. */
type ParsedIssueOptions = Omit<IssueOptions, 'webroot'> & { webroot?: string | true; webrootPath?: string; domains?: string; http01Port?: number; preferredChallenges?: true; selfUpgrade?: boolean };

/**
 * certbot's spellings folded into certman's options: the names of -d and --domains in order, the webroot folder
 * (the last given; config webroot for a bare --webroot), the -w order for the per-name map, --http-01-port.
 */
function fromCertbotSpellings(parsed: ParsedIssueOptions, given: { webrootFlags: WebrootFlag[]; domainValues: string[] }, ctx: CliContext): IssueOptions {
  const { webroot: webrootFlag, webrootPath: _last, domains: _domains, http01Port, preferredChallenges: _checked, selfUpgrade: _never, ...rest } = parsed;
  const webroot = given.webrootFlags.at(-1)?.dir ?? (webrootFlag === true ? ctx.settings.webroot : undefined);
  if (webrootFlag === true && webroot === undefined) throw new UsageError('--webroot needs a folder', 'pass --webroot <dir> or -w <dir>, or set "webroot" in the config file');
  const httpPort = rest.httpPort ?? http01Port;
  return {
    ...rest,
    domain: [...given.domainValues],
    webrootFlags: given.webrootFlags,
    ...(webroot === undefined ? {} : { webroot }),
    ...(httpPort === undefined ? {} : { httpPort }),
  };
}

async function issue(options: IssueOptions, given: CliContext): Promise<CommandResult> {
  if (options.keepUntilExpiring === true && options.force === true) throw new UsageError('--keep-until-expiring and --force (--force-renewal) exclude each other');
  const ctx = options.testCert === true ? { ...given, settings: { ...given.settings, server: testCertServer(given.settings) } } : given;
  const [{ Interrupt, isCancelled }, { liveProgress, wantsLiveProgress }] = await Promise.all([import('../interrupt.js'), import('../progress.js')]);
  // Ctrl-C (or SIGTERM, e.g. a cancelled CI job) from here on withdraws published tokens, saves nothing
  // and exits 130 (README: issue); the core does it, from the signal. Once the save is past its commit
  // point the certificate exists: the run finishes (deploy hook included) and a late Ctrl-C changes nothing.
  const interrupt = Interrupt.listen(['SIGINT', 'SIGTERM']);
  const progress = wantsLiveProgress(ctx.flags) ? liveProgress(process.stderr, ctx.style, ctx.flags) : undefined;
  const run: CliContext = progress === undefined ? ctx : { ...ctx, report: progress };
  try {
    const result = await issueFlow(options, run, interrupt);
    progress?.end('done');
    return result;
  } catch (err) {
    progress?.end(isCancelled(err) ? 'cancelled' : 'failed');
    throw err;
  } finally {
    interrupt.dispose();
  }
}

async function issueFlow(given: IssueOptions, ctx: CliContext, interrupt: Interrupt): Promise<CommandResult> {
  const [{ assertHttp01Compatible, defaultCertName, normalizeDomains }, { webrootMap }, { assertReachableIps }] = await Promise.all([
    import('../../dns/names.js'),
    import('../../challenge/webroot-map.js'),
    import('../../dns/ip.js'),
  ]);
  if (given.csr !== undefined) {
    const { issueFromCsr } = await import('./issue-csr.js');
    return issueFromCsr({ ...withWebrootMap(given, webrootMap, normalizeDomains), csr: given.csr }, ctx, interrupt);
  }
  let options = given;
  if (options.domain.length === 0 && ctx.interactive) {
    // No -d at a terminal: ask for what the flags left open, show the order, and go on only with a yes.
    const answered = await askForOrder(options, ctx, interrupt);
    if (answered === undefined) return declinedResult();
    options = answered;
  }
  const requested = normalizeDomains(options.domain);
  options = withWebrootMap(options, webrootMap, normalizeDomains);
  assertHttp01Compatible(requested);
  assertReachableIps(requested, ctx.settings.server, options.allowPrivateIp === true);
  const name = options.certName ?? defaultCertName(requested);
  const [{ dnsGate, namesToOrder }, { dnsGateFor }] = await Promise.all([import('../../dns/gate.js'), import('../dns-gate.js')]);
  const gate = await dnsGateFor(ctx, options, options.verifyDns === true);
  // race(): the resolver's queries take no signal; abandoned, they only read DNS.
  const checked = gate === undefined ? undefined : interrupt.race(gate(ctx.settings.server).then((gateOptions) => dnsGate(requested, gateOptions)));
  const domains = checked === undefined ? requested : namesToOrder(await checked, options.allowSubsetOfNames === true, ctx.report);
  const store = await ctx.openStore();
  // With --wait it says whom it waits for, and Ctrl-C ends the wait (exit 130).
  const { leaseLineage } = await import('../../certificate/lease.js');
  const lease = await leaseLineage(store, name, { wait: options.wait === true, signal: interrupt.signal, ...leaseLength(ctx) }, ctx.report);
  try {
    return await issueLocked(options, ctx, store, domains, name, interrupt, lease);
  } finally {
    await lease.release();
  }
}

/** The options with each name's webroot when several -w were given (certbot's rule: a -w serves the -d after it). */
function withWebrootMap(options: IssueOptions, map: typeof import('../../challenge/webroot-map.js').webrootMap, normalize: (names: string[]) => string[]): IssueOptions {
  const webroots = map(options.domain, options.webrootFlags ?? [], (flag) => normalize([flag]));
  return webroots === undefined ? options : { ...options, webroots };
}

/** The questions and the summary: the options with the answers, or undefined when the order is declined. */
async function askForOrder(options: IssueOptions, ctx: CliContext, interrupt: Interrupt): Promise<IssueOptions | undefined> {
  const [{ askIssueQuestions, confirmOrder, describeMethod }, { defaultCertName }, { describeKeySpec }, { deployerFor }] = await Promise.all([
    import('../interactive/issue-prompts.js'),
    import('../../dns/names.js'),
    import('../../crypto/keys.js'),
    import('../../deploy/index.js'),
  ]);
  const store = await ctx.openStore();
  const account = await store.getAccount(ctx.settings.server);
  // The order would be refused at the end: say so before any question.
  if (account?.deactivatedAt !== undefined) throw (await import('../../registration/stored-account.js')).deactivatedError(account);
  const certName = (domains: string[]) => options.certName ?? defaultCertName(domains);
  const answers = await askIssueQuestions(ctx, options, {
    interrupt,
    hasAccount: account !== undefined,
    previousFor: async (domains) => store.get(certName(domains)),
  });
  const merged: IssueOptions = { ...options, ...answers };
  const name = certName(merged.domain);
  const previous = await store.get(name);
  const rows: [string, string][] = [
    ['names', merged.domain.join(', ')],
    ['saved as', deployerFor(store, ctx.settings.configDir).locate(name).dir],
    ['challenge', describeMethod(challengeMethod(merged, ctx, previous), store.location)],
    ['key', describeKeySpec(keySpec(merged, ctx, previous))],
    [
      'account',
      account === undefined
        ? `new, contact ${(merged.registerUnsafelyWithoutEmail === true ? undefined : (merged.email ?? ctx.settings.email)) ?? '(none)'}, terms of service agreed`
        : `existing${account.email === undefined ? '' : `, contact ${account.email}`}`,
    ],
    ['CA', ctx.settings.server],
  ];
  if (previous !== undefined) {
    const sameNames = [...previous.domains].sort().join(',') === [...merged.domain].sort().join(',');
    const when = sameNames && merged.force !== true ? ' once it is due (--force: now)' : '';
    rows.push(['replaces', `the certificate ${previous.name} that expires ${formatDate(previous.notAfter)}${when}`]);
  }
  return (await confirmOrder(ctx, rows, interrupt)) ? merged : undefined;
}

function declinedResult(): CommandResult {
  return {
    exitCode: ExitCode.OK,
    json: { status: 'declined' },
    human: () => ['Nothing ordered.'],
  };
}

async function issueLocked(
  options: IssueOptions,
  ctx: CliContext,
  store: Store,
  domains: string[],
  name: string,
  interrupt: Interrupt,
  lease: Lease,
): Promise<CommandResult> {
  const previous = await store.get(name);
  const { sharedStore } = thisNode(ctx.settings);
  const method = challengeMethod(options, ctx, previous);
  const key = keySpec(options, ctx, previous);
  const { copyPathsFrom, checkCopyPaths } = await import('../../deploy/to-paths.js');
  // Flags, else where this certificate was copied before (from this host's own store only, like hooks).
  const givenCopies = copyPathsFrom({ cert: options.certPath, key: options.keyPath, fullchain: options.fullchainPath, chain: options.chainPath });
  // A store other hosts share keeps no paths (node-local.ts) and renew takes no --cert-path: the copies would be made
  // once and then go stale unseen, so refuse before ordering and point at what each host's renew does run.
  if (givenCopies !== undefined && sharedStore) {
    throw new UsageError('--cert-path, --key-path, --fullchain-path and --chain-path need the store in the config dir: a shared store keeps no paths, so renewals would not copy', "copy from a deploy hook in each host's config file instead (it gets RENEWED_LINEAGE)");
  }
  const copyTo = givenCopies ?? (sharedStore ? undefined : previous?.copyTo);
  if (copyTo !== undefined) await checkCopyPaths(copyTo, managedFolders(ctx.settings));
  const endpoints = endpointsOf(options, previous, sharedStore);
  // race(): the account questions and registration take no signal; abandoned, at worst an account exists at
  // the CA that is not stored (as after a crash), and the next run registers again.
  const account = await interrupt.race(accountForIssue(ctx, store, ctx.settings.server, options));

  const hooks = hookCommands(options, ctx, previous, !sharedStore);
  // Given now (flag, config) or as it was issued before: see ProfileRequest.given. --no-profile: none of them.
  const givenProfile = options.profile === false ? undefined : (options.profile ?? ctx.settings.profile);
  const profile = options.profile === false ? undefined : (givenProfile ?? previous?.profile);
  const selfCheck = selfCheckFor(ctx, options);
  const [{ issueCertificate }, { runHookFolder, hookDirOf, deployHookEnv }, { deployerFor }, { ResponderPool }, { withOrderHooks }] = await Promise.all([
    import('../../certificate/issue.js'),
    import('../../hooks/index.js'),
    import('../../deploy/index.js'),
    import('../../challenge/pool.js'),
    import('../order-hooks.js'),
  ]);
  const hookRuns: HookRun[] = [];
  // certbot's order: pre before the order, deploy on success, post whenever an order was attempted.
  const { recordAttempt } = await import('../../renewal/attempts.js');
  const outcome = await withOrderHooks(ctx, store, { ...hooks, domains, hookRuns }, async ({ budget, beforeOrder, issued, hook }) => {
    const outcome = await issueCertificate(
      {
        name,
        domains,
        key,
        reuseKey: options.reuseKey ?? previous?.reuseKey ?? false,
        ...preferredChainOf(options, ctx, previous),
        method,
        server: ctx.settings.server,
        force: options.force === true,
        ...(Object.keys(hooks).length === 0 ? {} : { hooks }),
        ...(profile === undefined ? {} : { profile, profileGiven: givenProfile !== undefined }),
        ...(copyTo === undefined ? {} : { copyTo }),
        ...(endpoints === undefined ? {} : { endpoints }),
      },
      {
        store,
        deployer: deployerFor(store, ctx.settings.configDir),
        lease,
        account,
        connect: ctx.connect,
        report: ctx.report,
        now: ctx.now,
        due: dueOptions(ctx.settings),
        sharedStore,
        ...(selfCheck === undefined ? {} : { selfCheck }),
        budget,
        responders: new ResponderPool({ tokens: store.tokens, portLock: portLocks(ctx, interrupt.signal) }),
        // A lost lease stops the order like Ctrl-C (and the save refuses): another run may be at work on it.
        signal: AbortSignal.any([interrupt.signal, lease.signal]),
        beforeOrder,
      },
    ).catch(async (err: unknown) => {
      // For `certman metrics`: a failed attempt on a stored certificate (a new one is not stored, so not kept);
      // held back by the CA budget, nothing was attempted.
      if (!(err instanceof BudgetDeferral)) await recordAttempt(store, name, 'failure', new Date(), ctx.report);
      throw err;
    });
    if (outcome.status === 'issued') {
      issued();
      await recordAttempt(store, name, 'success', new Date(), ctx.report);
      const env = deployHookEnv(outcome.deployed.dir, outcome.meta.domains);
      // certbot runs renewal-hooks/deploy/ whenever a lineage is renewed, also by certonly; not for a new one.
      const folder = previous === undefined || options.directoryHooks === false ? undefined : await runHookFolder(hookDirOf(ctx.settings.configDir, 'deploy'), env, { strict: process.getuid?.() === 0, report: ctx.report });
      for (const run of folder?.outcomes ?? []) hookRuns.push({ kind: 'deploy', ...run });
      if (hooks.deploy !== undefined && folder?.ran.includes(hooks.deploy) !== true) await hook('deploy', hooks.deploy, env);
    }
    return outcome;
  });
  return issueResult(outcome, ctx, hookRuns);
}

/**
 * --endpoint replaces the saved list, --no-endpoint drops it, else the saved one stays. A shared store keeps none
 * (node-local.ts): there each host's config `endpoints` says where it serves a certificate.
 */
function endpointsOf(options: IssueOptions, previous: CertificateMeta | undefined, sharedStore: boolean): string[] | undefined {
  if (options.endpoint === false) return undefined;
  if (options.endpoint.length === 0) return sharedStore ? undefined : previous?.endpoints;
  if (sharedStore) throw new UsageError('--endpoint needs the store in the config dir: a shared store keeps no endpoints', 'set "endpoints" in this host\'s config file instead');
  return options.endpoint;
}

/** Flags > how this certificate was issued before > the config file. */
function preferredChainOf(options: IssueOptions, ctx: CliContext, previous: CertificateMeta | undefined): { preferredChain?: string } {
  const preferredChain = options.preferredChain ?? previous?.preferredChain ?? ctx.settings.preferredChain;
  return preferredChain === undefined ? {} : { preferredChain };
}

/** Flags win; then the config file's webroot; then how this certificate was issued before (see methodOnThisNode). */
export function challengeMethod(options: IssueOptions, ctx: CliContext, previous: CertificateMeta | undefined): ChallengeMethod {
  const chosen = [options.webroot !== undefined && '--webroot', options.standalone === true && '--standalone', options.responder === true && '--responder'].filter(
    (flag): flag is string => flag !== false,
  );
  if (chosen.length > 1) throw new UsageError(`${chosen.join(' and ')} exclude each other`);
  if (options.responder === true) return { kind: 'responder' };
  const standalone = (): ChallengeMethod => {
    const address = options.httpAddress ?? ctx.settings.httpAddress;
    return { kind: 'standalone', port: options.httpPort ?? ctx.settings.httpPort, ...(address === undefined ? {} : { address }) };
  };
  if (options.standalone === true) return standalone();
  const webroot = options.webroot ?? ctx.settings.webroot;
  if (webroot !== undefined) {
    const webroots = options.webroot === undefined ? undefined : options.webroots;
    return { kind: 'webroot', webroot, ...(webroots === undefined ? {} : { webroots }) };
  }
  if (previous !== undefined) {
    const { node, sharedStore } = thisNode(ctx.settings);
    return methodOnThisNode(previous, node, sharedStore);
  }
  throw new UsageError('choose how to answer the HTTP-01 challenge', 'pass --webroot <dir> (a running web server) or --standalone (built-in server on port 80)');
}

function keySpec(options: IssueOptions, ctx: CliContext, previous: CertificateMeta | undefined): KeySpec {
  const given = options.keyType !== undefined || options.ellipticCurve !== undefined || options.rsaKeySize !== undefined;
  if (!given && previous !== undefined) return previous.key;
  const type = options.keyType ?? (options.rsaKeySize !== undefined ? 'rsa' : ctx.settings.keyType);
  if (type === 'rsa') {
    if (options.ellipticCurve !== undefined) throw new UsageError('--elliptic-curve goes with --key-type ecdsa');
    return { type: 'rsa', bits: options.rsaKeySize === undefined ? ctx.settings.rsaKeySize : (Number(options.rsaKeySize) as 2048 | 3072 | 4096) };
  }
  if (options.rsaKeySize !== undefined) throw new UsageError('--rsa-key-size goes with --key-type rsa');
  return { type: 'ecdsa', curve: options.ellipticCurve ?? ctx.settings.ellipticCurve };
}

/**
 * Flags > how this certificate was issued before > the config file's hooks. With a store apart from the config dir
 * (it may be shared), stored hooks are neither used nor saved: see RenewOptions.sharedStore.
 */
export function hookCommands(options: IssueOptions, ctx: CliContext, previous: CertificateMeta | undefined, storedHooks: boolean): HookCommands {
  const stored = storedHooks ? previous?.hooks : undefined;
  const pick = (flag: string | undefined, kind: keyof HookCommands) => flag ?? stored?.[kind] ?? ctx.settings.hooks[kind];
  const pre = pick(options.preHook, 'pre');
  const post = pick(options.postHook, 'post');
  const deploy = pick(deployHookOf(options), 'deploy');
  return { ...(pre === undefined ? {} : { pre }), ...(post === undefined ? {} : { post }), ...(deploy === undefined ? {} : { deploy }) };
}

function issueResult(outcome: IssueOutcome, ctx: CliContext, hookRuns: HookRun[]): CommandResult {
  const hookErrors = [
    ...(outcome.status === 'issued' && outcome.copyProblem !== undefined ? [`saved, but ${outcome.copyProblem}`] : []),
    ...hookRuns.filter((h) => !h.ok).map((h) => hookFailureMessage(h.kind, h)),
  ];
  const { meta, deployed } = outcome;
  const files = { cert: deployed.cert, chain: deployed.chain, fullchain: deployed.fullchain, privkey: deployed.privkey };
  const json = {
    status: outcome.status,
    name: meta.name,
    domains: meta.domains,
    serial: meta.serial,
    notBefore: meta.notBefore,
    notAfter: meta.notAfter,
    ...(outcome.status === 'not-due' ? { dueAt: outcome.dueAt.toISOString() } : {}),
    profile: meta.profile ?? null,
    ...(outcome.status === 'issued' && outcome.profileChosen === true ? { profileChosen: true } : {}),
    files,
  };
  return {
    // A failing hook never undoes the certificate, but the run reports it.
    exitCode: hookErrors.length > 0 ? ExitCode.FAILURE : ExitCode.OK,
    json: { ...json, hooks: hookRuns },
    human: (s) => [
      ...(outcome.status === 'not-due'
        ? [
            `Certificate ${s.bold(meta.name)} is not due for renewal until ${formatDate(outcome.dueAt)}; nothing ordered.`,
            s.dim('Use --force to order a new one anyway.'),
          ]
        : [
            `${s.ok('Certificate issued')} for ${meta.domains.join(', ')}`,
            `  name:      ${meta.name}`,
            `  serial:    ${meta.serial}`,
            `  expires:   ${formatDate(meta.notAfter)}`,
            ...(meta.profile === undefined ? [] : [`  profile:   ${meta.profile}${json.profileChosen === true ? ' (chosen by certman: the CA issues IP addresses with it)' : ''}`]),
            `  key:       ${files.privkey}`,
            `  chain:     ${files.fullchain}`,
            ...(ctx.flags.verbose ? [`  server:    ${meta.server}`] : []),
          ]),
      ...hookErrors.map((e) => s.bad(e)),
    ],
  };
}

/**
 * `certman issue --csr FILE` (certbot's `certonly --csr`): the names come from the CSR, the certificate goes to the
 * files the user names (or certbot's numbered defaults in the current folder); nothing is stored but the account.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ExitCode, messageOf, UsageError } from '../../errors.js';
import { hookFailureMessage } from '../../hooks/message.js';
import { accountForIssue } from '../account-setup.js';
import type { CliContext } from '../context.js';
import type { Interrupt } from '../interrupt.js';
import { portLocks } from '../lease.js';
import { managedFolders } from '../node.js';
import type { HookRun } from '../order-hooks.js';
import { formatDate } from '../format.js';
import { selfCheckFor } from '../self-check.js';
import type { CommandResult } from '../result.js';
import { challengeMethod, hookCommands, type IssueOptions } from './issue.js';

/**
 * What a CSR fixes (key, names) and what needs a stored certificate (deploy hook, lease, keep): the flags that would
 * say otherwise are refused, never dropped unseen. (--force is what every --csr run does anyway.)
 */
const NOT_WITH_CSR: [keyof IssueOptions, string][] = [
  ['keyType', '--key-type'],
  ['ellipticCurve', '--elliptic-curve'],
  ['rsaKeySize', '--rsa-key-size'],
  ['reuseKey', '--reuse-key'],
  ['certName', '--cert-name'],
  ['keyPath', '--key-path'],
  ['deployHook', '--deploy-hook'],
  ['renewHook', '--renew-hook'],
  ['keepUntilExpiring', '--keep-until-expiring'],
  ['wait', '--wait'],
  ['allowSubsetOfNames', '--allow-subset-of-names'],
];

/** The DNS check `issue` runs (--verify-dns, --expect-*, config expectIp/expectCname), on all of the CSR's names. */
async function dnsGateForCsr(domains: string[], options: IssueOptions, ctx: CliContext, interrupt: Interrupt): Promise<void> {
  const { dnsGateFor } = await import('../dns-gate.js');
  const gate = await dnsGateFor(ctx, options, options.verifyDns === true);
  if (gate === undefined) return;
  const { dnsGate, dnsCheckFailed } = await import('../../dns/gate.js');
  // race(): the resolver's queries take no signal; abandoned, they only read DNS.
  const { failed } = await interrupt.race(gate(ctx.settings.server).then((gateOptions) => dnsGate(domains, gateOptions)));
  if (failed.length > 0) throw dnsCheckFailed(failed, "fix DNS (certman verify-dns -d <name> shows what it says): a CSR's names are ordered together");
}

export async function issueFromCsr(options: IssueOptions & { csr: string }, ctx: CliContext, interrupt: Interrupt): Promise<CommandResult> {
  const conflicting = NOT_WITH_CSR.filter(([key]) => options[key] !== undefined).map(([, flag]) => flag);
  if (conflicting.length > 0) throw new UsageError(`--csr and ${conflicting.join(', ')} exclude each other: the CSR holds the key and names, and no certificate is stored`);
  const [{ readCsr }, { assertHttp01Compatible, normalizeDomains }, { checkCsrPaths, writeCsrFiles }] = await Promise.all([
    import('../../crypto/csr-file.js'),
    import('../../dns/names.js'),
    import('../../deploy/csr-files.js'),
  ]);
  const { assertReachableIps } = await import('../../dns/ip.js');
  const bytes = await readFile(options.csr).catch((err: unknown) => {
    throw new UsageError(`cannot read --csr ${options.csr}: ${messageOf(err)}`);
  });
  const csr = await readCsr(bytes, options.csr);
  const domains = normalizeDomains(csr.names);
  assertHttp01Compatible(domains);
  assertReachableIps(domains, ctx.settings.server, options.allowPrivateIp === true);
  if (options.domain.length > 0 && [...normalizeDomains(options.domain)].sort().join(',') !== [...domains].sort().join(',')) {
    throw new UsageError(`-d names differ from the CSR's (${domains.join(', ')})`, 'leave out -d with --csr, or give exactly the CSR\'s names');
  }
  await dnsGateForCsr(domains, options, ctx, interrupt);
  const paths = {
    ...(options.certPath === undefined ? {} : { cert: resolve(options.certPath) }),
    ...(options.chainPath === undefined ? {} : { chain: resolve(options.chainPath) }),
    ...(options.fullchainPath === undefined ? {} : { fullchain: resolve(options.fullchainPath) }),
  };
  await checkCsrPaths(paths, managedFolders(ctx.settings));

  const store = await ctx.openStore();
  const method = challengeMethod(options, ctx, undefined);
  // --no-profile: the CA's default, whatever the config file says.
  const profile = options.profile === false ? undefined : (options.profile ?? ctx.settings.profile);
  const preferredChain = options.preferredChain ?? ctx.settings.preferredChain;
  const account = await interrupt.race(accountForIssue(ctx, store, ctx.settings.server, options));
  const hooks = hookCommands(options, ctx, undefined, false);
  const [{ orderFromCsr }, { ResponderPool }, { withOrderHooks }] = await Promise.all([
    import('../../certificate/csr-order.js'),
    import('../../challenge/pool.js'),
    import('../order-hooks.js'),
  ]);
  const hookRuns: HookRun[] = [];
  const selfCheck = selfCheckFor(ctx, options);
  // As for any order: pre before it, post after it whatever happened. No deploy hook: there is no lineage.
  const certificate = await withOrderHooks(ctx, store, { ...hooks, domains, hookRuns }, async ({ budget, beforeOrder, issued }) => {
    const certificate = await orderFromCsr(
      {
        domains,
        csrDer: csr.der,
        publicKeyDer: csr.publicKeyDer,
        method,
        server: ctx.settings.server,
        ...(profile === undefined ? {} : { profile, profileGiven: true }),
        ...(preferredChain === undefined ? {} : { preferredChain }),
      },
      {
        account,
        connect: ctx.connect,
        report: ctx.report,
        budget,
        responders: new ResponderPool({ tokens: store.tokens, portLock: portLocks(ctx, interrupt.signal) }),
        ...(selfCheck === undefined ? {} : { selfCheck }),
        signal: interrupt.signal,
        beforeOrder,
      },
    );
    issued();
    return certificate;
  });
  const files = await writeCsrFiles(certificate, paths, process.cwd());
  const hookErrors = hookRuns.filter((h) => !h.ok).map((h) => hookFailureMessage(h.kind, h));
  return {
    exitCode: hookErrors.length > 0 ? ExitCode.FAILURE : ExitCode.OK,
    json: { status: 'issued', csr: true, domains, serial: certificate.serial, notAfter: certificate.notAfter.toISOString(), files, hooks: hookRuns },
    human: (s) => [
      `${s.ok('Certificate issued')} for ${domains.join(', ')} from ${options.csr} (not stored: renew it by running this again)`,
      `  serial:    ${certificate.serial}`,
      `  expires:   ${formatDate(certificate.notAfter.toISOString())}`,
      `  cert:      ${files.cert}`,
      `  chain:     ${files.chain}`,
      `  fullchain: ${files.fullchain}`,
      ...hookErrors.map((e) => s.bad(e)),
    ],
  };
}

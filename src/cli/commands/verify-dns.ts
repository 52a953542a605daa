import type { Command } from 'commander';
import { ExitCode, UsageError } from '../../errors.js';
import type { ResolverSpec } from '../../dns/resolver.js';
import type { Expectations, NameVerdict } from '../../dns/verify.js';
import type { CliContext } from '../context.js';
import { table } from '../format.js';
import { expectationsOf, expectCnameOption, expectIpOption, flagName, splitValues, type ExpectFlags } from '../expect-options.js';
import { collect } from '../parse.js';
import type { Runner } from '../program.js';
import type { CommandResult } from '../result.js';

interface VerifyDnsOptions extends ExpectFlags {
  domain: string[];
  resolver: string[];
  doh?: string;
  caIdentity?: string;
}

export function defineVerifyDns(program: Command, run: Runner): void {
  program
    .command('verify-dns')
    .description('check that names resolve where they should and that CAA lets the CA issue, as the CA will see it')
    .option('-d, --domain <name>', 'a name to check; repeat or separate with commas', collect, [])
    .addOption(expectIpOption())
    .addOption(expectCnameOption())
    .option('--resolver <ip[:port]>', 'ask these DNS servers; repeatable (env CERTMAN_RESOLVER, config resolver; default the system\'s)', collect, [])
    .option('--doh <url>', 'ask this DNS-over-HTTPS resolver instead (RFC 8484), e.g. https://cloudflare-dns.com/dns-query')
    .option('--ca-identity <domain>', "the CA's CAA issuer domain name (config caIdentity; default letsencrypt.org; issue and renew ask the CA's directory)")
    .addHelpText(
      'after',
      '\nExit codes: 0 every name passes, 1 a name fails, 2 bad input.\n\nExamples:\n  certman verify-dns -d example.com -d www.example.com --expect-ip 203.0.113.7\n  certman verify-dns -d shop.example.com --expect-cname edge.example.net --doh https://dns.google/dns-query',
    )
    .action(run(verifyDns));
}

async function verifyDns(options: VerifyDnsOptions, ctx: CliContext): Promise<CommandResult> {
  const [{ normalizeDomains }, { parseNameserver }, { createResolver, parseDohUrl }, { verifyNames }, { DEFAULT_CA_IDENTITY }] = await Promise.all([
    import('../../dns/names.js'),
    import('../../dns/nameserver.js'),
    import('../../dns/resolver.js'),
    import('../../dns/verify.js'),
    import('../../dns/caa.js'),
  ]);
  const names = normalizeDomains(options.domain);
  const resolvers = splitValues(options.resolver);
  if (resolvers.length > 0 && options.doh !== undefined) throw new UsageError('--resolver and --doh exclude each other');
  for (const server of resolvers) parseNameserver(server);
  const expect = await expectationsOf(options, ctx.settings);
  const caIdentity = options.caIdentity === undefined ? (ctx.settings.caIdentity ?? DEFAULT_CA_IDENTITY) : flagName('--ca-identity', options.caIdentity, normalizeDomains);
  const spec: ResolverSpec =
    options.doh === undefined
      ? { kind: 'dns', servers: resolvers.length > 0 ? resolvers : (ctx.settings.resolver ?? []) }
      : { kind: 'doh', url: parseDohUrl(options.doh).href };

  const resolver = await createResolver(spec);
  let verdicts: NameVerdict[];
  try {
    ctx.report.step(`asking ${resolver.label}`);
    verdicts = await verifyNames(names, expect, { resolver, caIdentities: [caIdentity] });
  } finally {
    resolver.close();
  }
  const failed = verdicts.filter((v) => !v.ok).length;
  return {
    exitCode: failed > 0 ? ExitCode.FAILURE : ExitCode.OK,
    // JSON has no undefined: a CAA set that was not looked up is null, so every verdict has the same keys.
    json: verdicts.map((v) => ({ ...v, caa: v.caa ?? null })),
    human: (s) => [
      ...table(
        ['NAME', 'ADDRESSES', 'CNAME CHAIN', 'CAA', 'VERDICT', 'REASON'],
        verdicts.map((v) => [
          v.name,
          v.addresses.length === 0 ? '-' : v.addresses.join(', '),
          v.cnameChain.length === 0 ? '-' : v.cnameChain.join(' → '),
          caaCell(v),
          v.ok ? s.ok('ok') : s.bad('FAIL'),
          v.reason ?? v.note ?? '',
        ]),
      ),
      '',
      `${verdicts.length - failed} of ${verdicts.length} ${verdicts.length === 1 ? 'name passes' : 'names pass'} ${s.dim(`(resolver ${resolver.label}; ${describeExpectations(expect)}; CAA for ${caIdentity})`)}`,
      ...(ctx.flags.verbose ? verdicts.flatMap((v) => (v.caa?.records ?? []).map((r) => s.dim(`  ${v.name}: ${r}`))) : []),
    ],
  };
}

function caaCell(v: NameVerdict): string {
  if (v.caa === undefined) return '-';
  if (v.caa.records.length === 0) return 'none';
  const count = `${v.caa.records.length} record${v.caa.records.length === 1 ? '' : 's'}`;
  return `${v.caa.allows ? 'allows' : 'forbids'} (${count})`;
}

function describeExpectations(expect: Expectations): string {
  const parts = [...(expect.ips.length > 0 ? [`ip ${expect.ips.join(', ')}`] : []), ...(expect.cnames.length > 0 ? [`cname ${expect.cnames.join(', ')}`] : [])];
  return parts.length === 0 ? 'expecting any address' : `expecting ${parts.join(' or ')}`;
}

import type { DnsGateOptions } from '../dns/gate.js';
import type { CliContext } from './context.js';
import { directoryMeta } from './directory.js';
import { expectationsOf, type ExpectFlags } from './expect-options.js';
import { withResolver, type SelfCheckFlags } from './self-check.js';

/**
 * The DNS gate's options per ACME server for `issue` and `renew`, or undefined when the gate is off.
 * Expectations on the command line beat the configured ones.
 * Unless config `caIdentity` names the CA, its directory says which CAA identities it answers to.
 */
export async function dnsGateFor(ctx: CliContext, flags: SelfCheckFlags & ExpectFlags, verifyDns: boolean): Promise<((server: string) => Promise<DnsGateOptions>) | undefined> {
  const { dnsGateEnabled, dnsGateOptions } = await import('../dns/gate.js');
  // --expect-ip/--expect-cname replace the configured expectations (and turn the gate on, as those do).
  const expect = await expectationsOf(flags, ctx.settings);
  const settings = { ...withResolver(ctx, flags), expectIp: expect.ips, expectCname: expect.cnames };
  if (!dnsGateEnabled(settings, verifyDns)) return undefined;
  const perServer = new Map<string, Promise<DnsGateOptions>>();
  return (server) => {
    let options = perServer.get(server);
    if (options === undefined) {
      const advertised = settings.caIdentity === undefined ? directoryMeta(ctx, server).then((meta) => meta?.caaIdentities ?? []) : Promise.resolve([]);
      options = advertised.then((identities) => dnsGateOptions(settings, identities));
      perServer.set(server, options);
    }
    return options;
  };
}

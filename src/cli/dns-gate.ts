import type { DnsGateOptions } from '../dns/gate.js';
import type { CliContext } from './context.js';
import { directoryMeta } from './directory.js';
import { withResolver, type SelfCheckFlags } from './self-check.js';

/**
 * The DNS gate's options per ACME server for `issue` and `renew`, or undefined when the gate is off.
 * Unless config `caIdentity` names the CA, its directory says which CAA identities it answers to.
 */
export async function dnsGateFor(ctx: CliContext, flags: SelfCheckFlags, verifyDns: boolean): Promise<((server: string) => Promise<DnsGateOptions>) | undefined> {
  const { dnsGateEnabled, dnsGateOptions } = await import('../dns/gate.js');
  const settings = withResolver(ctx, flags);
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

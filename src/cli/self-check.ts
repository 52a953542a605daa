import type { Command } from 'commander';
import type { ObtainInput } from '../certificate/obtain.js';
import type { AddressLookup } from '../challenge/self-check.js';
import type { CliContext } from './context.js';
import { collect, parsePort } from './parse.js';

export interface SelfCheckFlags {
  /** false with --no-self-check. */
  selfCheck: boolean;
  validationPort?: number;
  resolver: string[];
}

/** The options issue and renew share for checking a token before the CA is asked. */
export function addSelfCheckOptions(command: Command): Command {
  return command
    .option('--no-self-check', 'do not fetch the challenge URL before asking the CA to validate (e.g. hairpin NAT)')
    .option('--validation-port <port>', 'port the CA validates on, for the self-check (env CERTMAN_VALIDATION_PORT; default 80)', (v) => parsePort(v, '--validation-port'))
    .option('--resolver <ip[:port]>', 'DNS server for the self-check and the DNS gate; repeatable (env CERTMAN_RESOLVER)', collect, []);
}

/** The self-check the run uses, or undefined with --no-self-check. The resolver is created on first use. */
export function selfCheckFor(ctx: CliContext, flags: SelfCheckFlags): ObtainInput['selfCheck'] {
  if (!flags.selfCheck) return undefined;
  const port = flags.validationPort ?? ctx.settings.validationPort;
  const servers = flags.resolver.length > 0 ? flags.resolver : (ctx.settings.resolver ?? []);
  let lookup: Promise<AddressLookup> | undefined;
  return async (domain, token, keyAuthorization, signal) => {
    lookup ??= Promise.all([import('../dns/resolver.js'), import('../dns/lookup.js')]).then(async ([{ createResolver }, { addressLookup }]) =>
      addressLookup(await createResolver({ kind: 'dns', servers })),
    );
    const { selfCheck } = await import('../challenge/self-check.js');
    return selfCheck(domain, token, keyAuthorization, { port, lookup: await lookup, ...(signal === undefined ? {} : { signal }) });
  };
}

/** Settings with `--resolver` applied, so the DNS gate asks the same server as the self-check. */
export function withResolver(ctx: CliContext, flags: SelfCheckFlags): CliContext['settings'] {
  return flags.resolver.length > 0 ? { ...ctx.settings, resolver: flags.resolver } : ctx.settings;
}

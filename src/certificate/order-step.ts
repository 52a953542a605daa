/**
 * One ACME order from the budget check to the downloaded chain, shared by `issue` (a key certman makes) and
 * `issue --csr` (the user's CSR): budget, profile, pre-hook, responder, the order counted and sent, failed
 * validations recorded, and one more order when the CA lost the account (and so the order) meanwhile.
 */
import type { AcmeClient, AcmeConnector } from '../acme/index.js';
import { chooseProfile, offeredProfiles, type ProfileChoice } from '../acme/profiles.js';
import { ResponderPool } from '../challenge/index.js';
import { isIpIdentifier } from '../dns/ip.js';
import type { ChallengeMethod } from '../lineage/types.js';
import type { CaBudget } from '../renewal/ca-budget.js';
import type { Reporter } from '../report.js';
import type { StoredAccount } from '../store/types.js';
import { failedValidations, obtainCertificate, type ObtainInput } from './obtain.js';

export interface OrderRequest {
  /** The lineage name (or, with a CSR, its first name), for messages. */
  name: string;
  domains: string[];
  method: ChallengeMethod;
  server: string;
  profile?: string;
  /** `profile` was given for this run (flag, config), not stored with the lineage: see ProfileRequest.given. */
  profileGiven?: boolean;
  preferredChain?: string;
  /** The CA the lineage's profile was stored for, when there is a lineage (see ProfileRequest.storedAt). */
  storedAt?: string;
}

/** See IssueDeps for each. */
export interface OrderDeps {
  account: StoredAccount;
  connect: AcmeConnector;
  report: Reporter;
  responders?: ResponderPool;
  selfCheck?: ObtainInput['selfCheck'];
  replaces?: string;
  budget?: CaBudget;
  beforeOrder?: () => Promise<void>;
  orderSent?: () => void;
  dryRun?: boolean;
  signal?: AbortSignal;
}

/** What the order is finalized with: a key certman holds (the CSR is built from it) or the user's own CSR. */
export type Finalizer = { keyPem: string } | { csrDer: Buffer };

export interface PlacedOrder<F extends Finalizer> {
  fullchainPem: string;
  /** The account that got it (another URL when the CA registered it again). */
  accountUrl: string;
  profile: ProfileChoice;
  finalizer: F;
}

/** `finalizeWith` runs after the pre-hook (a new key is made only for an order really placed). */
export async function placeOrder<F extends Finalizer>(request: OrderRequest, deps: OrderDeps, finalizeWith: () => Promise<F>): Promise<PlacedOrder<F>> {
  const { report } = deps;
  deps.signal?.throwIfAborted();
  // From what was read: no pre-hook runs for an order the budget refuses.
  deps.budget?.check(request.server, deps.account.url, request.domains, new Date());
  const client = await deps.connect({ server: request.server, accountKeyPem: deps.account.keyPem, accountUrl: deps.account.url });
  // Before the pre-hook: a profile the CA does not offer is the caller's mistake, and costs nothing.
  const profile = await orderProfile(client, request, { report, dryRun: deps.dryRun === true });
  await deps.beforeOrder?.();
  const finalizer = await finalizeWith();
  // Bind ports and check folders before the CA hears of the order: a local mistake costs nothing there.
  const responder = await (deps.responders ?? new ResponderPool()).acquire(request.method);
  try {
    const order = async (): Promise<string> => {
      const account = client.account ?? deps.account.url;
      // Counted as it is sent, whatever the CA answers: a busy port or a missing webroot costs nothing.
      await deps.budget?.takeOrder(account, new Date(), report);
      deps.orderSent?.();
      try {
        return await obtainCertificate({
          client,
          domains: request.domains,
          ...finalizer,
          accountKeyPem: deps.account.keyPem,
          responder,
          report,
          ...(deps.replaces === undefined ? {} : { replaces: deps.replaces }),
          ...(profile.profile === undefined ? {} : { profile: profile.profile }),
          ...(request.preferredChain === undefined ? {} : { preferredChain: request.preferredChain }),
          ...(deps.selfCheck === undefined ? {} : { selfCheck: deps.selfCheck }),
          ...(deps.signal === undefined ? {} : { signal: deps.signal }),
        });
      } catch (err) {
        deps.budget?.failures.recordFailures(account, failedValidations(err), new Date());
        throw err;
      }
    };
    const signedAs = client.account;
    let fullchainPem: string;
    try {
      fullchainPem = await order();
    } catch (err) {
      // The CA was reset during the order: the account was registered again, and the order died with the old one.
      // (A verdict on a name is no lost order, even when a concurrent renewal re-registered meanwhile.)
      if (client.account === signedAs || deps.signal?.aborted === true || failedValidations(err).length > 0) throw err;
      report.warn(`the CA lost the order for ${request.name} with the account; ordering again`);
      fullchainPem = await order();
    }
    return { fullchainPem, accountUrl: client.account ?? deps.account.url, profile, finalizer };
  } finally {
    await responder.close();
  }
}

/**
 * The profile the order names. The directory is read only when a profile is wanted or an address is ordered:
 * otherwise the order is exactly what it was before profiles existed.
 */
async function orderProfile(client: AcmeClient, request: OrderRequest, context: { report: Reporter; dryRun: boolean }): Promise<ProfileChoice> {
  const { report } = context;
  const hasIp = request.domains.some(isIpIdentifier);
  if (request.profile === undefined && !hasIp) return { auto: false };
  const choice = chooseProfile(
    {
      name: request.name,
      domains: request.domains,
      server: request.server,
      given: request.profileGiven === true,
      hasIp,
      dryRun: context.dryRun,
      ...(request.profile === undefined ? {} : { wanted: request.profile }),
      ...(request.storedAt === undefined ? {} : { storedAt: request.storedAt }),
    },
    offeredProfiles(await client.meta()),
  );
  if (choice.auto) report.step(`ordering ${request.name} with the CA's "${choice.profile ?? ''}" profile: it has an IP address (--profile picks another)`);
  return choice;
}

import type { AcmeConnector } from '../acme/index.js';
import { SHORTLIVED } from '../acme/profiles.js';
import { ResponderPool } from '../challenge/index.js';
import { certificateMatchesKey, readCertificateInfo, splitFullchain } from '../crypto/certificate.js';
import { generatePrivateKey, keySpecOfPem, sameKeySpec } from '../crypto/keys.js';
import { isIpIdentifier } from '../dns/ip.js';
import { CertmanError, messageOf } from '../errors.js';
import { certificateStatus, duePolicy, renewalWindow, type DueOptions } from '../lineage/due.js';
import type { Reporter } from '../report.js';
import type { Deployer, DeployedLineage } from '../deploy/index.js';
import { copyToPaths } from '../deploy/to-paths.js';
import type { CertificateStore, Lease, StoredAccount } from '../store/types.js';
import { withoutNodeLocal } from '../lineage/node-local.js';
import type { CertificateMeta, ChallengeMethod, NewCertificate } from '../lineage/types.js';
import type { CaBudget } from '../renewal/ca-budget.js';
import type { ObtainInput } from './obtain.js';
import { placeOrder } from './order-step.js';

/** Everything that defines a certificate; stored with it so `renew` can repeat it. */
export type IssueRequest = Pick<CertificateMeta, 'name' | 'domains' | 'key' | 'reuseKey' | 'server' | 'renewDays' | 'hooks' | 'profile' | 'preferredChain' | 'copyTo' | 'endpoints'> & {
  /** `profile` was given for this run (flag, config), not stored with the lineage: see ProfileRequest.given. */
  profileGiven?: boolean;
  /** How this host answers the order's challenges. */
  method: ChallengeMethod;
  /** Order even when an unexpired certificate for the same names is not due. */
  force: boolean;
};

export interface IssueDeps {
  store: CertificateStore;
  /** Names (or writes) the files web servers read; the outcome's paths come from it. */
  deployer: Deployer;
  /** The caller's lease on the lineage: the save checks it is still held (see WriteGuard). */
  lease: Lease;
  account: StoredAccount;
  connect: AcmeConnector;
  report: Reporter;
  now: Date;
  /** Renewal window settings for the not-due check (config `renewDays`, `renewalSpread`). */
  due?: DueOptions;
  /** Run the whole order but save nothing (`renew --dry-run`). */
  dryRun?: boolean;
  /** Shared by the orders of one run (a standalone port or a webroot serves them all); one per call otherwise. */
  responders?: ResponderPool;
  /** See ObtainInput.selfCheck; off when undefined. */
  selfCheck?: ObtainInput['selfCheck'];
  /** ARI certificate id of the certificate this order replaces (RFC 9773 §5). */
  replaces?: string;
  /** The store may be shared by other hosts: the certificate is saved without this host's hooks, folder and port. */
  sharedStore?: boolean;
  /**
   * The CA budget the fleet shares (see CaBudget): a name or account it holds back fails with BudgetDeferral before
   * the pre-hook; each new order is counted just before it is sent (after the local checks, successful or not; the
   * count may refuse it too), and failed validations are recorded (the caller saves them). Nothing is checked or
   * counted when undefined.
   */
  budget?: CaBudget;
  /** Called once an order will really be placed (not for a certificate that is not due): the pre-hook. */
  beforeOrder?: () => Promise<void>;
  /** Called as the new order goes to the CA, past every local check (renew's backoff counts only such failures). */
  orderSent?: () => void;
  /**
   * Ctrl-C or SIGTERM: nothing is ordered once it has fired; an order under way stops at its next step or wait
   * (see ObtainInput.signal), its responder is closed (tokens withdrawn), and the call rejects with the signal's
   * reason. The save refuses before its commit point and finishes past it: a call that resolves 'issued' has
   * stored the certificate, whenever the signal fired.
   */
  signal?: AbortSignal;
}

export type IssueOutcome =
  /** copyProblem: the version is saved and deployed, but a copy to --cert-path & co. failed (the caller reports it). */
  | { status: 'issued'; meta: CertificateMeta; deployed: DeployedLineage; previous?: CertificateMeta; copyProblem?: string; profileChosen?: boolean }
  | { status: 'not-due'; meta: CertificateMeta; deployed: DeployedLineage; dueAt: Date };

export async function issueCertificate(request: IssueRequest, deps: IssueDeps): Promise<IssueOutcome> {
  const { store, report } = deps;
  const previous = await store.get(request.name);
  // A profile other than the stored one is a change, like other names: it orders now.
  if (previous !== undefined && !request.force && sameNames(previous.domains, request.domains) && sameProfile(previous, request)) {
    const policy = duePolicy({ ...previous, ...(request.renewDays === undefined ? {} : { renewDays: request.renewDays }) }, deps.due ?? {});
    if (certificateStatus(previous, deps.now, policy) === 'valid') {
      const meta = deps.dryRun === true || deps.sharedStore === true ? previous : await keepEndpoints(store, previous, request.endpoints);
      return { status: 'not-due', meta, deployed: deps.deployer.locate(request.name), dueAt: renewalWindow(previous, policy).dueAt };
    }
  }

  const placed = await placeOrder({ ...request, ...(previous === undefined ? {} : { storedAt: previous.server }) }, deps, async () => ({ keyPem: await chooseKey(request, previous, deps) }));
  const { fullchainPem, accountUrl, profile } = placed;
  const { keyPem } = placed.finalizer;

  const files = { ...splitFullchain(fullchainPem), privkey: keyPem };
  if (!certificateMatchesKey(files.cert, keyPem)) throw new CertmanError('the CA returned a certificate for a different key; nothing was saved');
  const info = readCertificateInfo(files.cert);
  const fresh: NewCertificate = {
    name: request.name,
    domains: request.domains,
    key: request.key,
    reuseKey: request.reuseKey,
    method: request.method,
    server: request.server,
    accountUrl,
    serial: info.serial,
    notBefore: info.notBefore.toISOString(),
    notAfter: info.notAfter.toISOString(),
    ...(request.renewDays === undefined ? {} : { renewDays: request.renewDays }),
    ...(request.hooks === undefined ? {} : { hooks: request.hooks }),
    ...(profile.profile === undefined ? {} : { profile: profile.profile }),
    ...(request.preferredChain === undefined ? {} : { preferredChain: request.preferredChain }),
    ...(request.copyTo === undefined ? {} : { copyTo: request.copyTo }),
    ...(request.endpoints === undefined ? {} : { endpoints: request.endpoints }),
  };
  const chosen = profile.auto ? { profileChosen: true } : {};
  if (deps.dryRun === true) {
    report.step(`dry run: got serial ${info.serial} for ${request.name}, saved nothing`);
    const meta = { ...fresh, version: previous?.version ?? 0 };
    return { status: 'issued', meta, deployed: deps.deployer.locate(request.name), ...(previous === undefined ? {} : { previous }), ...chosen };
  }
  const meta = await store.save(deps.sharedStore === true ? withoutNodeLocal(fresh) : fresh, files, { lease: deps.lease, ...(deps.signal === undefined ? {} : { signal: deps.signal }) });
  report.step(`saved ${request.name} (serial ${info.serial})`);
  // A success ends the backoff of earlier failed renewals (see renewal/backoff.ts).
  await deps.budget?.clearBackoff(request.name, report);
  const deployed = await deps.deployer.deploy(meta);
  // Past the save the certificate exists: a failed copy is reported, it undoes nothing and stops no deploy hook.
  const copyProblem = request.copyTo === undefined ? undefined : await copyToPaths(files, request.copyTo).then(
    (written) => void report.step(`copied to ${written.join(', ')}`),
    (err: unknown) => messageOf(err),
  );
  return { status: 'issued', meta, deployed, ...(previous === undefined ? {} : { previous }), ...chosen, ...(copyProblem === undefined ? {} : { copyProblem }) };
}

/**
 * `issue --endpoint` (or `--no-endpoint`) on a certificate that is not due: the list changes now, not at the next
 * renewal, since nothing else would ever save it. Only this host's own store keeps endpoints (node-local.ts).
 */
async function keepEndpoints(store: CertificateStore, previous: CertificateMeta, endpoints: string[] | undefined): Promise<CertificateMeta> {
  if ((previous.endpoints ?? []).join(' ') === (endpoints ?? []).join(' ')) return previous;
  return store.updateMeta(previous.name, ({ endpoints: _old, ...current }) => ({ ...current, ...(endpoints === undefined ? {} : { endpoints }) }));
}

async function chooseKey(request: IssueRequest, previous: CertificateMeta | undefined, deps: IssueDeps): Promise<string> {
  if (request.reuseKey && previous !== undefined) {
    const { privkey } = await deps.store.readFiles(previous.name);
    const spec = keySpecOfPem(privkey);
    if (spec !== undefined && sameKeySpec(spec, request.key)) return privkey;
    deps.report.warn(`the existing key of ${previous.name} is not ${request.key.type}; generating a new one`);
  }
  return generatePrivateKey(request.key);
}

/**
 * Whether the request asks for the profile the lineage has. Asking for none where an address got the `shortlived`
 * certman chose for it (see chooseProfile) asks for the same again: that is what the order would pick.
 */
function sameProfile(previous: CertificateMeta, request: IssueRequest): boolean {
  if (previous.profile === request.profile) return true;
  return request.profile === undefined && previous.profile === SHORTLIVED && request.domains.some(isIpIdentifier);
}

function sameNames(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().join(',') === [...b].sort().join(',');
}

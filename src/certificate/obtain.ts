import type { AcmeClient } from '../acme/client.js';
import { hintFor, problemError, toSubproblem } from '../acme/problem.js';
import type { Authorization, Challenge } from '../acme/types.js';
import type { Http01Responder } from '../challenge/types.js';
import { createCsrDer } from '../crypto/csr.js';
import { downloadPreferredChain } from './chain-choice.js';
import { jwkThumbprint, keyAuthorization } from '../crypto/jwk.js';
import { AcmeProblemError, CertmanError, type Subproblem } from '../errors.js';
import type { Reporter } from '../report.js';

export interface ObtainInput {
  client: AcmeClient;
  domains: string[];
  /** The certificate's private key (PEM), for the CSR built here; not needed with csrDer. */
  keyPem?: string;
  /** A ready CSR (DER) to finalize with, as given (`issue --csr`): no key is seen or built. */
  csrDer?: Buffer;
  /** The account key, whose thumbprint is part of every key authorization. */
  accountKeyPem: string;
  responder: Http01Responder;
  report: Reporter;
  /** ARI id of the certificate being replaced; the client drops it if the CA says alreadyReplaced. */
  replaces?: string;
  /** The CA profile the order names (checked against the directory before: see acme/profiles.ts). */
  profile?: string;
  /** Among the CA's chains, the one whose topmost certificate this common name issued (see chain-choice.ts). */
  preferredChain?: string;
  /**
   * Fetches the published token the way the CA will; returns what was seen when it is wrong.
   * Any failure abandons the order before the CA is asked to validate anything.
   */
  selfCheck?: (domain: string, token: string, keyAuthorization: string, signal?: AbortSignal) => Promise<string | undefined>;
  /**
   * Ctrl-C or SIGTERM: the order stops at its next step, and a wait (polling, the self-check) at once,
   * rejecting with the signal's reason. No challenge is answered once it fires (the pending
   * authorizations are deactivated instead), and nothing is downloaded: the save would refuse it.
   */
  signal?: AbortSignal;
}

/** Problem type of a failed self-check: not the CA's verdict, so it spends none of the CA's failure limit. */
export const SELF_CHECK_FAILED = 'certman:self-check';
/** Problem type of a request about an authorization that failed (no answer, badNonce): no verdict on the name either. */
const REQUEST_FAILED = 'certman:request';

/** Names whose authorization the CA (not the network or certman) found invalid in an error from obtainCertificate. */
export function failedValidations(err: unknown): string[] {
  if (!(err instanceof AcmeProblemError)) return [];
  return err.subproblems.filter((s) => s.identifier !== undefined && !s.type.startsWith('certman:')).map((s) => s.identifier as string);
}

/** One ACME order from newOrder to the downloaded PEM chain (RFC 8555 §7.4), HTTP-01 only. */
export async function obtainCertificate(input: ObtainInput): Promise<string> {
  const { client } = input;
  step(input, `ordering a certificate for ${input.domains.join(', ')}`);
  let order = await client.newOrder(input.domains, {
    ...(input.replaces === undefined ? {} : { replaces: input.replaces }),
    ...(input.profile === undefined ? {} : { profile: input.profile }),
  });
  const authorizations = await Promise.all(order.authorizations.map((url) => client.authorization(url)));
  await validateAuthorizations(input, authorizations);

  step(input, 'finalizing the order');
  order = await client.finalize(order, input.csrDer ?? (await createCsrDer(input.domains, keyOf(input))));
  order = await client.waitForOrder(order, input.signal);
  if (order.status !== 'valid' || order.certificate === undefined) {
    throw problemError(order.error, undefined, `the order ended as ${order.status}`);
  }
  step(input, 'downloading the certificate');
  if (input.preferredChain === undefined) return client.downloadCertificate(order.certificate);
  const chosen = await downloadPreferredChain(client, order.certificate, input.preferredChain, (message) => input.report.warn(message));
  // No matching chain is no failure (certbot's rule): the default chain is kept, and the run says so.
  if (chosen.matched) input.report.step(chosen.note);
  else input.report.warn(chosen.note);
  return chosen.pem;
}

function keyOf(input: ObtainInput): string {
  if (input.keyPem === undefined) throw new CertmanError('an order needs the certificate\'s key or a ready CSR, and got neither', { hint: 'this is a bug in certman' });
  return input.keyPem;
}

/** Reports the order's next step, unless the run was interrupted: then it stops here. */
function step(input: ObtainInput, message: string): void {
  input.signal?.throwIfAborted();
  input.report.step(message);
}

async function validateAuthorizations(input: ObtainInput, authorizations: Authorization[]): Promise<void> {
  const { client, responder, report } = input;
  const pending = authorizations.filter((authz) => authz.status === 'pending');
  const unusable = authorizations.filter((authz) => authz.status !== 'pending' && authz.status !== 'valid');
  if (unusable.length > 0) {
    throw new CertmanError(`the CA returned unusable authorizations: ${unusable.map((a) => `${a.identifier.value} (${a.status})`).join(', ')}`);
  }
  const thumbprint = jwkThumbprint(input.accountKeyPem);
  const tasks = pending.map((authz) => ({ authz, challenge: http01Of(authz) }));
  try {
    for (const { authz, challenge } of tasks) {
      await abandonIfAborted(input, tasks);
      report.step(`publishing the HTTP-01 token for ${authz.identifier.value}`);
      await responder.publish(authz.identifier.value, challenge.token, keyAuthorization(challenge.token, thumbprint));
    }
    if (input.selfCheck !== undefined) await selfCheckAll(input, tasks, thumbprint);
    await abandonIfAborted(input, tasks);
    const outcomes = await Promise.allSettled(
      tasks.map(async ({ authz, challenge }) => {
        report.step(`validating ${authz.identifier.value}`);
        await client.answerChallenge(challenge.url);
        return client.waitForAuthorization(authz.url, authz.identifier.value, input.signal);
      }),
    );
    const nameOf = (i: number) => tasks[i]?.authz.identifier.value ?? '?';
    const failures = outcomes.flatMap((outcome, i) => (outcome.status === 'fulfilled' ? failureOf(outcome.value, nameOf(i)) : []));
    // A request that failed (network, rate limit, a lost account) is no verdict on the name: it is shown, but
    // only the CA's verdicts on the other names count against their failure budget.
    const rejected = outcomes.flatMap((outcome, i) => (outcome.status === 'rejected' ? [{ name: nameOf(i), reason: outcome.reason as unknown }] : []));
    if (failures.length > 0) {
      const unanswered = rejected.map(({ name, reason }) => ({ identifier: name, type: REQUEST_FAILED, detail: reason instanceof Error ? reason.message : String(reason) }));
      throw validationError([...failures, ...unanswered]);
    }
    // The CA's verdicts above outrank an interrupt; without any, an interrupted wait ends as cancelled.
    input.signal?.throwIfAborted();
    if (rejected[0] !== undefined) throw rejected[0].reason;
  } finally {
    await Promise.all(tasks.map(({ challenge }) => responder.unpublish(challenge.token)));
  }
}

async function selfCheckAll(input: ObtainInput, tasks: { authz: Authorization; challenge: Challenge }[], thumbprint: string): Promise<void> {
  const check = input.selfCheck;
  if (check === undefined) return;
  const seen = await Promise.all(
    tasks.map(async ({ authz, challenge }) => {
      input.report.step(`checking that ${authz.identifier.value} serves the token`);
      const problem = await check(authz.identifier.value, challenge.token, keyAuthorization(challenge.token, thumbprint), input.signal);
      return problem === undefined ? [] : [{ identifier: authz.identifier.value, type: SELF_CHECK_FAILED, detail: problem }];
    }),
  ).catch(async (err: unknown) => {
    // Interrupted: the checks end at once, and nothing is left pending at the CA.
    await abandonIfAborted(input, tasks);
    throw err;
  });
  const failures = seen.flat();
  if (failures.length === 0) return;
  await deactivateAll(input, tasks);
  throw new AcmeProblemError(
    { type: SELF_CHECK_FAILED, detail: `self-check failed for ${failures.length === 1 ? '1 name' : `${failures.length} names`}; the CA was not asked to validate`, subproblems: failures },
    'make http://<name>/.well-known/acme-challenge/ reach this responder (DNS, port, proxy), or pass --no-self-check (e.g. hairpin NAT)',
  );
}

/** Stops before any challenge is answered when the run was interrupted, leaving nothing pending at the CA. */
async function abandonIfAborted(input: ObtainInput, tasks: { authz: Authorization }[]): Promise<void> {
  if (input.signal?.aborted !== true) return;
  await deactivateAll(input, tasks);
  input.signal.throwIfAborted();
}

/** Nothing was answered, so the CA validated nothing; deactivating leaves no half-done authorization behind. */
async function deactivateAll(input: ObtainInput, tasks: { authz: Authorization }[]): Promise<void> {
  await Promise.allSettled(tasks.map(({ authz }) => input.client.deactivateAuthorization(authz.url)));
}

function http01Of(authz: Authorization): Challenge {
  const challenge = authz.challenges.find((c) => c.type === 'http-01');
  if (challenge === undefined) {
    throw new CertmanError(`the CA offers no HTTP-01 challenge for ${authz.identifier.value}`, {
      hint: authz.wildcard === true ? 'wildcard names need DNS-01' : undefined,
    });
  }
  return challenge;
}

function failureOf(authz: Authorization, name: string): Subproblem[] {
  if (authz.status === 'valid') return [];
  const failed = authz.challenges.find((c) => c.error !== undefined);
  const sub = failed?.error === undefined ? { type: 'about:blank', detail: `authorization is ${authz.status}` } : toSubproblem(failed.error);
  return [{ ...sub, identifier: name }];
}

function validationError(failures: Subproblem[]): AcmeProblemError {
  const type = failures[0]?.type ?? 'urn:ietf:params:acme:error:unauthorized';
  const detail = `validation failed for ${failures.length === 1 ? '1 name' : `${failures.length} names`}`;
  return new AcmeProblemError({ type, detail, subproblems: failures }, hintFor(type));
}

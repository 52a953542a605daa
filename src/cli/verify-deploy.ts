/**
 * `--verify-deploy[=SECONDS]` of renew and sync: the option, the time it means with config `verifyDeploy`, the
 * verifier it builds, and how a verification is printed and put in --json.
 */
import { Option } from 'commander';
import { DEFAULT_VERIFY_DEPLOY_SECONDS } from '../config/defaults.js';
import type { Settings } from '../config/types.js';
import { UsageError } from '../errors.js';
import type { DeployVerification, DeployVerifier } from '../served/verify-deploy.js';
import type { EndpointCheck } from '../served/types.js';
import type { Store } from '../store/index.js';
import { printableLine } from '../text.js';
import type { CliContext } from './context.js';
import { formatDate } from './format.js';

/** The same bounds as config `verifyDeploy`: a deploy that takes longer than an hour is not waited for. */
const MAX_SECONDS = 3600;

/** commander's value: true without SECONDS, false from --no-verify-deploy, undefined when neither was given. */
export type VerifyDeployFlag = boolean | number | undefined;

/** renew's help on --verify-deploy: when it looks, what a miss does and does not do. */
export const RENEW_VERIFY_HELP =
  '\nVerify deploy (--verify-deploy, config verifyDeploy): once the renewals and their deploy hooks are done, and before\n' +
  'the post-hooks, each renewed certificate\'s endpoints are checked (again every second or so) until they serve it.\n' +
  'A miss fails the run (exit 1) and names the certificate in FAILED_DOMAINS (RENEWED_DOMAINS too: it was renewed and\n' +
  'stays live); it is no failed renewal for the backoff or the CA budget, and the next run does not renew it again:\n' +
  'fix the deploy (a web server reloaded by a post-hook is reloaded too late: use a deploy hook), see certman check.';

/** `--verify-deploy [seconds]`; add `--no-verify-deploy` next to it. */
export function verifyDeployOption(what: string): Option {
  return new Option(
    '--verify-deploy [seconds]',
    `after ${what}, wait until its endpoints (config endpoints, else each name on port 443) serve the new version; a miss fails it (default ${DEFAULT_VERIFY_DEPLOY_SECONDS} s, or config verifyDeploy)`,
  ).argParser(parseVerifySeconds);
}

export function noVerifyDeployOption(): Option {
  return new Option('--no-verify-deploy', 'do not verify, whatever config verifyDeploy says');
}

function parseVerifySeconds(value: string): number {
  const seconds = Number(value);
  if (!/^\d+$/.test(value) || seconds < 1 || seconds > MAX_SECONDS) {
    throw new UsageError(`--verify-deploy must be whole seconds from 1 to ${MAX_SECONDS}, not "${value}"`);
  }
  return seconds;
}

/** Seconds to verify for, or undefined for no verification: the flag, else config verifyDeploy. */
export function verifySeconds(flag: VerifyDeployFlag, settings: Pick<Settings, 'verifyDeploy'>): number | undefined {
  if (flag === false) return undefined;
  if (typeof flag === 'number') return flag;
  if (flag === true) return settings.verifyDeploy ?? DEFAULT_VERIFY_DEPLOY_SECONDS;
  return settings.verifyDeploy;
}

/** The run's verifier (against this host's config endpoints), or undefined when not verifying. */
export async function verifierFor(flag: VerifyDeployFlag, ctx: CliContext, store: Store, signal: AbortSignal | undefined): Promise<DeployVerifier | undefined> {
  const seconds = verifySeconds(flag, ctx.settings);
  if (seconds === undefined) return undefined;
  const { deployVerifier } = await import('../served/verify-deploy.js');
  return deployVerifier(
    { seconds, ...(ctx.settings.endpoints === undefined ? {} : { endpoints: ctx.settings.endpoints }), ...(signal === undefined ? {} : { signal }) },
    { store, report: ctx.report },
  );
}

/** One line on a certificate's verification: where it is served, or what was served instead. */
export function verificationLine(name: string, verification: DeployVerification): string {
  const { endpoints } = verification;
  if (verification.ok) return `served   ${name}: live at ${endpoints.map((check) => check.endpoint).join(', ')}`;
  const misses = endpoints.filter((check) => check.status !== 'live').map(servedText);
  const why = verification.problem === undefined ? `within ${verification.seconds} s` : verification.problem;
  return `not served ${name} (${why})${misses.length === 0 ? '' : `: ${misses.join('; ')}`}`;
}

/** What one endpoint served, for people: `127.0.0.1:8443 served older version 1 (serial …, expires …)`. */
export function servedText(check: EndpointCheck): string {
  const cert = check.certificate;
  const details = cert === undefined ? '' : ` (serial ${cert.serial}, expires ${formatDate(cert.notAfter)})`;
  switch (check.status) {
    case 'live':
      return `${check.endpoint} served the new version${details}`;
    case 'older':
      return `${check.endpoint} served older version ${check.version ?? '?'}${details}`;
    case 'other':
      return `${check.endpoint} served another certificate, ${printableLine(cert?.subject ?? 'no subject')}${details}`;
    case 'unreachable':
      return `${check.endpoint} unreachable: ${withoutEndpoint(check)}`;
  }
}

/** The probe's error names the endpoint already. */
function withoutEndpoint(check: EndpointCheck): string {
  const error = check.error ?? 'no answer';
  return error.startsWith(`${check.endpoint}: `) ? error.slice(check.endpoint.length + 2) : error;
}


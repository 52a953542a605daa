/**
 * ACME profiles (draft-ietf-acme-profiles): the directory's `meta.profiles` names what a new order may ask
 * for. certman checks a profile against it before ordering, and picks `shortlived` for IP addresses.
 */
import { CertmanError, UsageError } from '../errors.js';
import type { DirectoryMeta } from './types.js';
import { printableLine } from '../text.js';

/** Let's Encrypt issues IP address certificates only under this profile. */
export const SHORTLIVED = 'shortlived';

/** A profile name as certman accepts it (flag, config) and shows it (the CA's list): no blanks or escapes. */
const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const PROFILE_NAME_RULE = 'a profile name is 1 to 64 letters, digits, ".", "_" and "-"';

/** Why `name` cannot be a profile name, or undefined. */
export function profileNameProblem(name: string): string | undefined {
  return PROFILE_NAME.test(name) ? undefined : PROFILE_NAME_RULE;
}

/**
 * The profiles a directory offers, name → description; undefined when it offers none. The directory is the
 * CA's JSON: names certman could not show or send are left out.
 */
export function offeredProfiles(meta: DirectoryMeta): Record<string, string> | undefined {
  const raw: unknown = meta.profiles;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const entries = Object.entries(raw as Record<string, unknown>).filter(([name]) => profileNameProblem(name) === undefined);
  return entries.length === 0 ? undefined : Object.fromEntries(entries.map(([name, about]) => [name, typeof about === 'string' ? about : '']));
}

export interface ProfileRequest {
  /** The lineage name and its names, for messages and the hint's command. */
  name: string;
  domains: string[];
  server: string;
  /** The CA a stored profile was issued at, when it is not `server` (issue --server, a dry run elsewhere). */
  storedAt?: string;
  /** The order is a dry run (`server` is the dry-run CA). */
  dryRun?: boolean;
  /** The profile asked for: given now (flag, config) or stored with the lineage. */
  wanted?: string;
  /** True when `wanted` was given for this run: a wrong one is then a usage error (exit 2), not a failure (exit 1). */
  given: boolean;
  /** The order names an IP address. */
  hasIp: boolean;
}

export interface ProfileChoice {
  profile?: string;
  /** certman chose it (an IP address at a CA offering shortlived), nobody asked for it. */
  auto: boolean;
}

/** The profile an order names, checked against what the CA offers; throws when it cannot be ordered. */
export function chooseProfile(request: ProfileRequest, offered: Record<string, string> | undefined): ProfileChoice {
  const { wanted } = request;
  if (wanted === undefined) {
    return request.hasIp && offered?.[SHORTLIVED] !== undefined ? { profile: SHORTLIVED, auto: true } : { auto: false };
  }
  if (offered?.[wanted] !== undefined) return { profile: wanted, auto: false };
  const offers = offered === undefined ? 'it offers no profiles' : `it offers ${describeOffered(offered)}`;
  if (request.given) {
    throw new UsageError(
      `the CA ${request.server} has no profile "${wanted}": ${offers}`,
      offered === undefined ? 'use --no-profile for this CA' : "pick one of those with --profile, or --no-profile for the CA's default",
    );
  }
  return failStored(request, wanted, offers);
}

function failStored(request: ProfileRequest, wanted: string, offers: string): never {
  const ca = `the ${request.dryRun === true ? 'dry-run ' : ''}CA ${request.server}`;
  const elsewhere = request.storedAt !== undefined && request.storedAt !== request.server;
  const message = elsewhere
    ? `${request.name}: ${ca} does not offer the profile "${wanted}" this certificate was issued with: ${offers}`
    : `${request.name} was issued with the profile "${wanted}", which ${ca} no longer offers: ${offers}`;
  // The names in the command: without -d, issue asks for them (or exits 2 in a script).
  const again = ['certman issue --cert-name', request.name, ...request.domains.flatMap((d) => ['-d', d]), '--force'].join(' ');
  const reissue = `${again} --profile <profile> (or --no-profile)`;
  const hint =
    elsewhere && request.dryRun === true
      ? `config dryRunServer names a CA for dry runs; or issue it again with another profile: ${reissue}`
      : `issue it again with another profile or with the CA's default: ${reissue}`;
  throw new CertmanError(message, { hint });
}

/** `classic (…), shortlived (…)`: names in the CA's order with their descriptions, for messages. */
export function describeOffered(offered: Record<string, string>): string {
  return Object.entries(offered)
    .map(([name, about]) => (about === '' ? name : `${name} (${printableLine(about, 80)})`))
    .join(', ');
}


/**
 * CAA (RFC 8659): may this CA issue for a name?
 *
 * Which records count (§3): the CAA record set of the name itself, else of its parent, and so on up to
 * the top-level domain; the first non-empty set found is the relevant one. A CNAME at a name is followed
 * the way any resolver follows it (the CAA set of `www` → `cdn.example.net` is the target's), but the
 * search never climbs from the alias target: after `www.example.com` comes `example.com`. A name that does
 * not exist has an empty set, and the search goes on; a lookup that fails (SERVFAIL, timeout) stops it,
 * because a CA must not issue then either.
 *
 * What the set says (§4): `issue` properties name the CAs allowed to issue; for a wildcard name,
 * `issuewild` properties replace them when there are any. No such properties: any CA may issue. A
 * property marked critical (flag 128) with a tag we do not understand forbids issuance. Parameters after
 * `;` (accounturi, validationmethods …) are not checked.
 */

export interface CaaRecord {
  flags: number;
  tag: string;
  value: string;
}

/** The relevant record set and where it was found (`domain` undefined: no CAA anywhere up the tree). */
export interface CaaSet {
  domain: string | undefined;
  records: CaaRecord[];
}

/** The CAA records at one domain (after CNAMEs), `[]` when there are none or the name does not exist. */
export type CaaLookup = (domain: string) => Promise<{ ok: true; records: CaaRecord[] } | { ok: false; reason: string }>;

export type CaaDecision = { allows: true } | { allows: false; reason: string };

export const DEFAULT_CA_IDENTITY = 'letsencrypt.org';

/** Tags a CA understands (RFC 8659 issue/issuewild/iodef; RFC 9495 issuemail, issuevmc). */
const KNOWN_TAGS = new Set(['issue', 'issuewild', 'iodef', 'issuemail', 'issuevmc', 'contactemail', 'contactphone']);
const CRITICAL = 0x80;

/** Names tried, most specific first: `a.b.example.com`, `b.example.com`, `example.com`, `com`. `*.` is dropped. */
export function caaSearchPath(name: string): string[] {
  const labels = name.replace(/^\*\./, '').split('.');
  return labels.map((_, i) => labels.slice(i).join('.')).filter((domain) => domain !== '');
}

/** Walks up from `name` to the first non-empty CAA set. */
export async function findRelevantCaa(name: string, lookup: CaaLookup): Promise<{ ok: true; set: CaaSet } | { ok: false; reason: string }> {
  for (const domain of caaSearchPath(name)) {
    const found = await lookup(domain);
    if (!found.ok) return found;
    if (found.records.length > 0) return { ok: true, set: { domain, records: found.records } };
  }
  return { ok: true, set: { domain: undefined, records: [] } };
}

/** Whether the set lets the CA (known by any of `caIdentities`) issue for a (wildcard) name, and if not, why. */
export function caaDecision(set: CaaSet, caIdentities: readonly string[], wildcard: boolean): CaaDecision {
  const where = `CAA at ${set.domain ?? '?'}`;
  const tagOf = (r: CaaRecord) => r.tag.toLowerCase();
  const critical = set.records.find((r) => (r.flags & CRITICAL) !== 0 && !KNOWN_TAGS.has(tagOf(r)));
  if (critical !== undefined) return { allows: false, reason: `${where} has a critical "${critical.tag}" property that CAs do not understand` };
  const wild = wildcard ? set.records.filter((r) => tagOf(r) === 'issuewild') : [];
  const tag = wild.length > 0 ? 'issuewild' : 'issue';
  const relevant = wild.length > 0 ? wild : set.records.filter((r) => tagOf(r) === 'issue');
  if (relevant.length === 0) return { allows: true };
  const identities = caIdentities.map(normalizeIssuer);
  if (relevant.some((r) => identities.includes(issuerDomainName(r.value)))) return { allows: true };
  const named = relevant.map((r) => JSON.stringify(r.value)).join(', ');
  return { allows: false, reason: `${where} does not allow ${identities.join(' or ')} (${tag} ${named})` };
}

/**
 * The issuer-domain-name of an issue/issuewild value: what comes before `;`, trimmed, lowercase, no
 * trailing dot. `""` for `;` alone ("no CA may issue").
 */
export function issuerDomainName(value: string): string {
  return normalizeIssuer(value.split(';')[0] ?? '');
}

function normalizeIssuer(value: string): string {
  const lower = value.trim().toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** `example.com CAA 0 issue "letsencrypt.org"`: the zone-file form, for tables and JSON. */
export function formatCaaRecord(domain: string, record: CaaRecord): string {
  return `${domain} CAA ${record.flags} ${record.tag} ${JSON.stringify(record.value)}`;
}

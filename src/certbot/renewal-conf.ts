/**
 * certbot's renewal/<name>.conf, read into what certman needs to keep renewing the lineage.
 *
 *   version = 2.1.0
 *   archive_dir = /etc/letsencrypt/archive/example.com
 *   cert = /etc/letsencrypt/live/example.com/cert.pem          (also privkey, chain, fullchain)
 *   [renewalparams]
 *   authenticator = webroot                                      webroot | standalone | nginx | apache | manual | dns-…
 *   webroot_path = /var/www/html,                                a list (note the trailing comma)
 *   server = https://acme-v02.api.letsencrypt.org/directory
 *   account = 0123abcd…                                         folder name under accounts/<server>/
 *   key_type = ecdsa                                             with rsa_key_size / elliptic_curve
 *   pre_hook / post_hook / renew_hook (= --deploy-hook) / deploy_hook
 *   reuse_key = True
 *   preferred_chain = ISRG Root X1 / required_profile = tlsserver / preferred_profile = shortlived
 *   [[webroot_map]]
 *   example.com = /var/www/html                                  which webroot each name was validated through
 */
import { canonicalIp } from '../dns/nameserver.js';
import { confBool, confList, confString, parseConfigObj, type ConfSection } from './configobj.js';

export const LETSENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

/** The four files of a lineage, by certbot's key names in the conf (the same as certman's file names). */
export const CERTBOT_FILES = ['cert', 'chain', 'fullchain', 'privkey'] as const;
export type CertbotFile = (typeof CERTBOT_FILES)[number];

export interface CertbotRenewalConf {
  /** certbot version that last wrote the file. */
  version?: string;
  archiveDir?: string;
  /** Paths of the live files as certbot recorded them (what web servers are configured with). */
  files: Partial<Record<CertbotFile, string>>;
  /** Top-level `renew_before_expiry` (e.g. "30 days"), usually left commented out. */
  renewBeforeExpiry?: string;
  authenticator?: string;
  installer?: string;
  /** `webroot_path`, in order. */
  webrootPaths: string[];
  /** `[[webroot_map]]`: name → webroot. */
  webrootMap: Map<string, string>;
  http01Port?: number;
  http01Address?: string;
  /** ACME directory URL as written (see {@link certbotServer} for the one to use). */
  server?: string;
  /** certbot account id (a folder name under accounts/<server>/). */
  account?: string;
  keyType?: string;
  rsaKeySize?: number;
  ellipticCurve?: string;
  preHook?: string;
  postHook?: string;
  /** `deploy_hook`, or `renew_hook`, which is what certbot writes for --deploy-hook. */
  deployHook?: string;
  reuseKey: boolean;
  mustStaple: boolean;
  preferredChain?: string;
  /** certbot ≥ 4's `--required-profile`: the ACME profile ordered, or the renewal fails. */
  requiredProfile?: string;
  /** certbot ≥ 4's `--preferred-profile`: ordered when the CA offers it, else the CA's default. */
  preferredProfile?: string;
  /** Every [renewalparams] key, for messages about settings certman does not carry over. */
  params: Map<string, string | string[]>;
}

function str(section: ConfSection | undefined, key: string): string | undefined {
  const value = confString(section?.values.get(key))?.trim();
  // configobj spells Python's None as the text "None".
  return value === undefined || value === '' || value === 'None' ? undefined : value;
}

function int(section: ConfSection | undefined, key: string): number | undefined {
  const value = str(section, key);
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/** Parses the text of renewal/<name>.conf (`file` names it in errors: ConfSyntaxError). */
export function parseRenewalConf(text: string, file = 'renewal.conf'): CertbotRenewalConf {
  const root = parseConfigObj(text, file);
  const params = root.sections.get('renewalparams');
  const files: Partial<Record<CertbotFile, string>> = {};
  for (const kind of CERTBOT_FILES) {
    const value = str(root, kind);
    if (value !== undefined) files[kind] = value;
  }
  const webrootMap = new Map<string, string>();
  for (const [name, value] of params?.sections.get('webroot_map')?.values ?? []) {
    const dir = confString(value)?.trim();
    // Keys as certman spells names: lower case, an IPv6 address compressed (RFC 5952), as the imported SANs are.
    if (dir !== undefined && dir !== '') webrootMap.set(canonicalIp(name) ?? name.toLowerCase(), dir);
  }
  const flat = new Map<string, string | string[]>();
  for (const [key, value] of params?.values ?? []) flat.set(key, value);

  const conf: CertbotRenewalConf = {
    files,
    webrootPaths: confList(params?.values.get('webroot_path')).map((p) => p.trim()).filter((p) => p !== ''),
    webrootMap,
    reuseKey: confBool(params?.values.get('reuse_key')) ?? false,
    mustStaple: confBool(params?.values.get('must_staple')) ?? false,
    params: flat,
  };
  const optional = {
    version: str(root, 'version'),
    archiveDir: str(root, 'archive_dir'),
    renewBeforeExpiry: str(root, 'renew_before_expiry'),
    authenticator: str(params, 'authenticator'),
    installer: str(params, 'installer'),
    http01Port: int(params, 'http01_port'),
    http01Address: str(params, 'http01_address'),
    server: str(params, 'server'),
    account: str(params, 'account'),
    keyType: str(params, 'key_type')?.toLowerCase(),
    rsaKeySize: int(params, 'rsa_key_size'),
    ellipticCurve: str(params, 'elliptic_curve')?.toLowerCase(),
    preHook: str(params, 'pre_hook'),
    postHook: str(params, 'post_hook'),
    deployHook: str(params, 'deploy_hook') ?? str(params, 'renew_hook'),
    preferredChain: str(params, 'preferred_chain'),
    requiredProfile: str(params, 'required_profile'),
    preferredProfile: str(params, 'preferred_profile'),
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) (conf as unknown as Record<string, unknown>)[key] = value;
  }
  return conf;
}

/**
 * The ACME directory a lineage renews with: `server`, Let's Encrypt when there is none (certbot's
 * default), and Let's Encrypt's retired ACME v1 endpoints mapped to v2, as certbot itself does.
 */
export function certbotServer(conf: Pick<CertbotRenewalConf, 'server'>): string {
  const server = conf.server ?? LETSENCRYPT_DIRECTORY;
  const v1 = /^https:\/\/acme-(v01|staging)\.api\.letsencrypt\.org\/directory\/?$/.exec(server);
  if (v1 === null) return server;
  return v1[1] === 'staging' ? 'https://acme-staging-v02.api.letsencrypt.org/directory' : LETSENCRYPT_DIRECTORY;
}

/**
 * `renew_before_expiry` as days ("30 days", "2 weeks", "10d"); undefined for anything else,
 * such as hours or a bare number, which certman's whole-lineage `renewDays` cannot express.
 */
export function renewBeforeExpiryDays(value: string): number | undefined {
  const m = /^\s*(\d+)\s*(d|days?|w|weeks?)\s*$/i.exec(value);
  if (m === null) return undefined;
  const n = Number(m[1]);
  const days = (m[2] ?? 'd').toLowerCase().startsWith('w') ? n * 7 : n;
  return days > 0 ? days : undefined;
}

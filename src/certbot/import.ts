/**
 * Adopting certbot lineages: each renewal/<name>.conf with its live files becomes a certman
 * certificate (archive version 1 + live/, through the store's save()), and the certbot account it
 * renews with becomes certman's account for that server, so `certman renew` carries on from there.
 *
 * Nothing here talks to a CA: the certificates, keys and account are taken as they are.
 * certbot's own files are only read, except with `keepPaths`, where its live/<name>/*.pem links are
 * pointed at certman's live files and its renewal/<name>.conf is renamed so certbot stops renewing it.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readdir, readFile, rename, stat, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';

import { certificateMatchesKey, readCertificateInfo } from '../crypto/certificate.js';
import { describeKeySpec, keySpecOfPem, sameKeySpec } from '../crypto/keys.js';
import { CertmanError, UsageError, messageOf } from '../errors.js';
import type { Reporter } from '../report.js';
import type { AccountStore, StoredAccount } from '../store/types.js';
import { activeAccount } from '../registration/stored-account.js';
import type { CertificateFiles, CertificateMeta, ChallengeMethod, HookCommands, KeySpec, NewCertificate } from '../lineage/types.js';
import { isValidName } from '../store/index.js';
import { PROFILE_NAME_RULE, profileNameProblem } from '../acme/profiles.js';
import { printableLine } from '../text.js';
import { findCertbotAccount, readCertbotAccount, type CertbotAccount } from './account.js';
import { ConfSyntaxError } from './configobj.js';
import { carryHookDirs, type HookDirsReport } from './hook-dirs.js';
import { CERTBOT_FILES, certbotServer, parseRenewalConf, renewBeforeExpiryDays, type CertbotFile, type CertbotRenewalConf } from './renewal-conf.js';

/** Suffix given to renewal/<name>.conf with keepPaths: certbot only reads *.conf, so it stops renewing the lineage. */
export const IMPORTED_CONF_SUFFIX = '.certman-imported';

export interface ImportOptions {
  /** certbot's --config-dir (usually /etc/letsencrypt). */
  certbotDir: string;
  /** Lineage names to import; all when empty. */
  names?: string[];
  /** Report what would be imported; write nothing. */
  dryRun?: boolean;
  /** Import over a certman certificate of the same name (it gets a new version). */
  force?: boolean;
  /** Point certbot's live/<name>/*.pem links at certman's files (see the file comment). */
  keepPaths?: boolean;
  /** How to answer HTTP-01 for lineages whose certbot authenticator certman cannot repeat (nginx, apache, manual, dns-…). */
  method?: ChallengeMethod;
  now: Date;
  /** certman's config dir: certbot's renewal-hooks/ executables are copied into its renewal-hooks/. None when undefined. */
  hookDirsInto?: string;
}

/** The parts of the store an import needs. */
export interface ImportTarget extends AccountStore {
  get(name: string): Promise<CertificateMeta | undefined>;
  save(meta: NewCertificate, files: CertificateFiles): Promise<CertificateMeta>;
  /** Absolute live/<name> folder of certman's store. */
  location(name: string): string;
}

export interface ImportDeps {
  target: ImportTarget;
  report: Reporter;
}

export interface PathChange {
  from: string;
  to: string;
}

/** Why a lineage was skipped: certman has it already, cannot renew it the certbot way, or its files are unusable. */
export type SkipKind = 'exists' | 'unsupported' | 'invalid';

export interface LineageReport {
  name: string;
  status: 'imported' | 'would-import' | 'skipped' | 'failed';
  reason?: string;
  skip?: SkipKind;
  domains?: string[];
  method?: ChallengeMethod;
  key?: KeySpec;
  server?: string;
  notAfter?: string;
  /** Web-server config paths to change from certbot's files to certman's (not with keepPaths). */
  pathsToChange?: PathChange[];
  /** keepPaths: certbot's links (from) that point, or would point, at certman's live files (to). */
  relinked?: PathChange[];
  /** keepPaths: where certbot's renewal conf was (or would be) moved. */
  renewalConfMovedTo?: string;
  warnings: string[];
}

export interface AccountReport {
  server: string;
  /**
   * imported / would-import: certbot's account became certman's; present: certman already had this very account;
   * kept: certman already had another account for the server and keeps it; missing: certbot's account files are not there.
   */
  status: 'imported' | 'would-import' | 'present' | 'kept' | 'missing' | 'failed';
  certbotId?: string;
  /** The account certman renews these certificates with (none when missing). */
  url?: string;
  detail?: string;
}

export interface ImportReport {
  certbotDir: string;
  dryRun: boolean;
  lineages: LineageReport[];
  accounts: AccountReport[];
  /** Things that concern the whole import (certbot still renewing). */
  notes: string[];
  /** certbot's renewal-hooks/ executables carried over (see ImportOptions.hookDirsInto). */
  hookDirs?: HookDirsReport;
}

/** Everything about one lineage that will be saved. */
interface Plan {
  report: LineageReport;
  meta: Omit<NewCertificate, 'accountUrl'>;
  files: CertificateFiles;
  accountId: string | undefined;
  /** certbot's live/<name>/<kind>.pem → certman's, for keepPaths. */
  links: PathChange[];
  confFile: string;
}

const PATH_ORDER: CertbotFile[] = ['fullchain', 'privkey', 'chain', 'cert'];


/** Imports the selected lineages (see {@link ImportOptions}); per-lineage problems end up in the report, never thrown. */
export async function importCertbot(options: ImportOptions, deps: ImportDeps): Promise<ImportReport> {
  const certbotDir = path.resolve(options.certbotDir);
  const renewalDir = path.join(certbotDir, 'renewal');
  let entries: string[];
  try {
    entries = await readdir(renewalDir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new UsageError(`no certbot configuration in ${certbotDir}: ${renewalDir} does not exist`, "pass --certbot-dir <dir>, certbot's --config-dir (default /etc/letsencrypt)");
    }
    throw new CertmanError(`cannot read ${renewalDir}: ${messageOf(err)}`, { cause: err, hint: 'Run as a user who can read certbot\'s files (usually root).' });
  }
  const available = entries.filter((e) => e.endsWith('.conf') && !e.startsWith('.')).map((e) => e.slice(0, -'.conf'.length)).sort();
  const wanted = [...new Set(options.names ?? [])];
  const unknown = wanted.filter((n) => !available.includes(n));
  if (unknown.length > 0) {
    throw new UsageError(
      `no certbot lineage named ${unknown.map((n) => `"${n}"`).join(', ')} in ${renewalDir}`,
      available.length === 0 ? 'certbot has no lineages there' : `lineages there: ${available.join(', ')}`,
    );
  }
  const selected = wanted.length > 0 ? wanted.sort() : available;
  const probe = selected.find(isValidName);
  if (probe !== undefined && path.resolve(path.dirname(path.dirname(deps.target.location(probe)))) === certbotDir) {
    throw new UsageError(`certman's config dir is certbot's (${certbotDir})`, 'import into a config dir of its own (e.g. /etc/certman); sharing one folder with certbot is not supported');
  }

  const reports: LineageReport[] = [];
  const plans: Plan[] = [];
  for (const name of selected) {
    deps.report.step(`reading certbot lineage ${name}`);
    const outcome = await planLineage(name, certbotDir, options, deps.target);
    reports.push('report' in outcome ? outcome.report : outcome);
    if ('report' in outcome) plans.push(outcome);
  }

  const { accounts, accountUrls } = await resolveAccounts(plans, certbotDir, options, deps.target);
  const notes = globalNotes(plans.length > 0, options);
  const hookDirs = options.hookDirsInto === undefined ? undefined : await carryHookDirs(certbotDir, options.hookDirsInto, { dryRun: options.dryRun === true, report: deps.report });
  const hooksReport = hookDirs === undefined ? {} : { hookDirs };

  if (options.dryRun === true) {
    for (const plan of plans) plan.report.status = 'would-import';
    return { certbotDir, dryRun: true, lineages: reports, accounts, notes, ...hooksReport };
  }

  for (const account of accounts) {
    if (account.status !== 'imported') continue;
    const source = accountUrls.get(account.server);
    if (source?.save === undefined) continue;
    try {
      await deps.target.saveAccount(source.save);
    } catch (err) {
      account.status = 'failed';
      account.detail = messageOf(err);
    }
  }

  for (const plan of plans) {
    const { report } = plan;
    try {
      const saved = await deps.target.save({ ...plan.meta, accountUrl: accountUrls.get(plan.meta.server)?.url ?? '' }, plan.files);
      report.status = 'imported';
      deps.report.step(`imported ${saved.name} (serial ${saved.serial})`);
    } catch (err) {
      report.status = 'failed';
      report.reason = `cannot save it: ${messageOf(err)}`;
      delete report.pathsToChange;
      delete report.relinked;
      delete report.renewalConfMovedTo;
      continue;
    }
    if (options.keepPaths === true) {
      try {
        await relink(plan);
      } catch (err) {
        report.status = 'failed';
        report.reason = `imported, but re-pointing certbot's links failed: ${messageOf(err)}`;
      }
    }
  }
  return { certbotDir, dryRun: false, lineages: reports, accounts, notes, ...hooksReport };
}

function skipped(name: string, skip: SkipKind, reason: string, extra: Partial<LineageReport> = {}): LineageReport {
  return { name, status: 'skipped', skip, reason, warnings: [], ...extra };
}

async function planLineage(name: string, certbotDir: string, options: ImportOptions, target: ImportTarget): Promise<Plan | LineageReport> {
  const confFile = path.join(certbotDir, 'renewal', `${name}.conf`);
  if (!isValidName(name)) return skipped(name, 'invalid', 'the name is not a valid certman certificate name');

  let conf: CertbotRenewalConf;
  try {
    conf = parseRenewalConf(await readFile(confFile, 'utf8'), confFile);
  } catch (err) {
    return skipped(name, 'invalid', err instanceof ConfSyntaxError ? err.message : `cannot read ${confFile}: ${messageOf(err)}`);
  }

  try {
    const existing = await target.get(name);
    if (existing !== undefined && options.force !== true) {
      return skipped(name, 'exists', `certman already has a certificate named "${name}" (${target.location(name)}); pass --force to import over it`);
    }
  } catch (err) {
    if (options.force !== true) return skipped(name, 'exists', `certman already has a damaged certificate named "${name}": ${messageOf(err)}; pass --force to import over it`);
  }

  // The live version, read through certbot's live/ links (the paths in the conf when the folder was moved).
  const liveDir = path.join(certbotDir, 'live', name);
  const texts: Partial<Record<CertbotFile, string>> = {};
  for (const kind of CERTBOT_FILES) {
    const candidates = [...new Set([path.join(liveDir, `${kind}.pem`), ...(conf.files[kind] === undefined ? [] : [conf.files[kind]])])];
    let lastError: unknown;
    for (const file of candidates) {
      try {
        texts[kind] = await readFile(file, 'utf8');
        break;
      } catch (err) {
        lastError = err;
      }
    }
    if (texts[kind] === undefined) return skipped(name, 'invalid', `cannot read its ${kind}.pem: ${messageOf(lastError)}`);
  }
  const files = texts as Record<CertbotFile, string>;
  const warnings: string[] = [];

  let domains: string[];
  let info: ReturnType<typeof readCertificateInfo>;
  try {
    info = readCertificateInfo(files.cert);
    domains = orderedDomains(files.cert, info.domains);
  } catch (err) {
    return skipped(name, 'invalid', `its cert.pem is not a certificate: ${messageOf(err)}`);
  }
  if (domains.length === 0) return skipped(name, 'invalid', 'its certificate names no DNS names or IP addresses');

  let key: KeySpec | undefined;
  try {
    if (!certificateMatchesKey(files.cert, files.privkey)) return skipped(name, 'invalid', 'its cert.pem does not belong to its privkey.pem');
    key = keySpecOfPem(files.privkey);
    if (!/-----BEGIN PRIVATE KEY-----/.test(files.privkey)) {
      // certman (and acme-client's CSR code, for --reuse-key) reads PKCS#8; older certbots wrote PKCS#1/SEC1.
      files.privkey = createPrivateKey(files.privkey).export({ type: 'pkcs8', format: 'pem' }).toString();
      warnings.push('privkey.pem was converted to PKCS#8 (the same key)');
    }
  } catch (err) {
    return skipped(name, 'invalid', `its privkey.pem cannot be read: ${messageOf(err)}`);
  }
  if (key === undefined) {
    return skipped(name, 'unsupported', `its key is ${describeKey(files.privkey)}, which certman does not use (ECDSA P-256/P-384, RSA 2048/3072/4096): keep renewing it with certbot, or issue a new one with certman issue`);
  }

  const chosen = methodFromConf(conf, domains, options.method);
  if ('unsupported' in chosen) return skipped(name, 'unsupported', chosen.unsupported, { domains });
  if (chosen.note !== undefined) warnings.push(chosen.note);

  const server = certbotServer(conf);
  try {
    const url = new URL(server);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
  } catch {
    return skipped(name, 'invalid', `its server ${JSON.stringify(server)} is not an ACME directory URL`);
  }

  const hooks: HookCommands = {};
  if (conf.preHook !== undefined) hooks.pre = conf.preHook;
  if (conf.postHook !== undefined) hooks.post = conf.postHook;
  if (conf.deployHook !== undefined) hooks.deploy = conf.deployHook;
  let renewDays: number | undefined;
  if (conf.renewBeforeExpiry !== undefined) {
    renewDays = renewBeforeExpiryDays(conf.renewBeforeExpiry);
    if (renewDays === undefined) warnings.push(`renew_before_expiry = ${conf.renewBeforeExpiry} is not a number of days or weeks; certman's default renewal time applies`);
  }

  const configDir = path.dirname(path.dirname(target.location(name)));
  warnings.push(...settingWarnings(conf, key, chosen.method, hooks, info.notAfter, options, certbotDir, configDir));
  if (chosen.method.kind === 'webroot' && !(await isDirectory(chosen.method.webroot))) {
    warnings.push(`the webroot ${chosen.method.webroot} does not exist here: renewals fail until it does`);
  }

  const chain = carriedChain(conf);
  const { profile } = carriedProfile(conf);
  const meta: Omit<NewCertificate, 'accountUrl'> = {
    name,
    domains,
    key,
    reuseKey: conf.reuseKey,
    method: chosen.method,
    server,
    serial: info.serial,
    notBefore: info.notBefore.toISOString(),
    notAfter: info.notAfter.toISOString(),
    ...(renewDays === undefined ? {} : { renewDays }),
    ...(Object.keys(hooks).length === 0 ? {} : { hooks }),
    ...(chain === undefined ? {} : { preferredChain: chain }),
    ...(profile === undefined ? {} : { profile }),
  };
  const certmanLive = target.location(name);
  const links = PATH_ORDER.map((kind) => ({ from: path.join(liveDir, `${kind}.pem`), to: path.join(certmanLive, `${kind}.pem`) }));
  const report: LineageReport = {
    name,
    status: 'would-import',
    domains,
    method: chosen.method,
    key,
    server,
    notAfter: meta.notAfter,
    warnings,
  };
  if (options.keepPaths === true) {
    report.relinked = links;
    report.renewalConfMovedTo = `${confFile}${IMPORTED_CONF_SUFFIX}`;
  } else {
    report.pathsToChange = PATH_ORDER.map((kind) => ({ from: conf.files[kind] ?? path.join(liveDir, `${kind}.pem`), to: path.join(certmanLive, `${kind}.pem`) }));
  }
  return { report, meta, files, accountId: conf.account, links, confFile };
}

/** The certificate's DNS names (and IP addresses), lowercased, its common name first (certbot's order). */
function orderedDomains(certPem: string, sans: string[]): string[] {
  const names = [...new Set(sans.map((d) => d.toLowerCase()))];
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(new X509Certificate(certPem).subject)?.[1]?.trim().toLowerCase();
  if (cn === undefined || !names.includes(cn)) return names;
  return [cn, ...names.filter((n) => n !== cn)];
}

function describeKey(pem: string): string {
  try {
    const key = createPrivateKey(pem);
    const d = key.asymmetricKeyDetails;
    if (key.asymmetricKeyType === 'rsa') return `RSA ${d?.modulusLength ?? '?'}`;
    if (key.asymmetricKeyType === 'ec') return `ECDSA ${d?.namedCurve ?? '?'}`;
    return key.asymmetricKeyType ?? 'an unknown type';
  } catch {
    return 'of an unknown type';
  }
}

const ALTERNATIVES = 'import it with --webroot <dir> (a folder your web server serves at /.well-known/acme-challenge/), --standalone, or --responder (behind certman serve-challenge)';

/**
 * How certman answers HTTP-01 for a lineage, from certbot's authenticator: webroot and standalone
 * carry over; anything else needs `override` (--webroot/--standalone/--responder), and wildcard
 * names cannot be renewed at all (DNS-01).
 */
export function methodFromConf(
  conf: Pick<CertbotRenewalConf, 'authenticator' | 'webrootPaths' | 'webrootMap' | 'http01Port' | 'http01Address'>,
  domains: string[],
  override?: ChallengeMethod,
): { method: ChallengeMethod; note?: string } | { unsupported: string } {
  const wildcards = domains.filter((d) => d.startsWith('*.'));
  if (wildcards.length > 0) {
    return { unsupported: `wildcard names (${wildcards.join(', ')}) need DNS-01, which certman does not do yet: keep renewing it with certbot` };
  }
  const auth = conf.authenticator ?? (conf.webrootPaths.length > 0 || conf.webrootMap.size > 0 ? 'webroot' : undefined);
  const instead = (why: string): { method: ChallengeMethod; note?: string } | { unsupported: string } =>
    override === undefined ? { unsupported: `${why}; ${ALTERNATIVES}` } : { method: override, note: `${why}; renewing with ${describeMethod(override)} as asked` };

  if (auth === 'webroot') {
    const fallback = conf.webrootPaths[conf.webrootPaths.length - 1];
    const byName = domains.map((d) => ({ name: d, dir: conf.webrootMap.get(d) ?? fallback }));
    const unmapped = byName.filter((e) => e.dir === undefined).map((e) => e.name);
    if (unmapped.length > 0) return instead(`certbot recorded no webroot for ${unmapped.join(', ')}`);
    const relative = byName.filter((e) => !path.isAbsolute(e.dir as string)).map((e) => e.name);
    if (relative.length > 0) return instead(`certbot recorded a webroot that is not an absolute path for ${relative.join(', ')}`);
    const dirs = [...new Set(byName.map((e) => e.dir as string))];
    const webroot = fallback ?? (dirs.at(-1) as string);
    if (dirs.length === 1) return { method: { kind: 'webroot', webroot: dirs[0] as string } };
    // Several webroots: each name keeps certbot's folder, as `issue -w A -d a -w B -d b` stores them.
    return { method: { kind: 'webroot', webroot, webroots: Object.fromEntries(byName.map((e) => [e.name, e.dir as string])) } };
  }
  if (auth === 'standalone') {
    return {
      method: { kind: 'standalone', port: conf.http01Port ?? 80, ...(conf.http01Address === undefined ? {} : { address: conf.http01Address }) },
    };
  }
  if (auth === 'nginx' || auth === 'apache') return instead(`certbot's ${auth} plugin edits ${auth}'s configuration to answer the challenge, certman does not`);
  if (auth === 'manual') return instead('certbot ran manual auth hooks (manual_auth_hook) for it, certman cannot repeat them');
  if (auth !== undefined && /^(certbot-)?dns[-_]/.test(auth)) return instead(`it was validated over DNS (${auth}), which certman does not do yet`);
  return instead(auth === undefined ? 'certbot recorded no authenticator for it' : `certbot's "${auth}" authenticator is unknown to certman`);
}

function describeMethod(method: ChallengeMethod): string {
  if (method.kind === 'webroot') return `webroot ${method.webroot}`;
  if (method.kind === 'standalone') return `standalone on port ${method.port}`;
  return 'the responder';
}

/** The key certbot would make at its next renewal, when the conf says (undefined when it does not, or certman has no such type). */
export function certbotKeySpec(conf: Pick<CertbotRenewalConf, 'keyType' | 'rsaKeySize' | 'ellipticCurve'>): KeySpec | undefined {
  if (conf.keyType === 'rsa') {
    const bits = conf.rsaKeySize ?? 2048;
    return bits === 2048 || bits === 3072 || bits === 4096 ? { type: 'rsa', bits } : undefined;
  }
  if (conf.keyType === 'ecdsa') {
    const curve = conf.ellipticCurve ?? 'secp256r1';
    if (curve === 'secp256r1' || curve === 'p-256' || curve === 'prime256v1') return { type: 'ecdsa', curve: 'p256' };
    if (curve === 'secp384r1' || curve === 'p-384') return { type: 'ecdsa', curve: 'p384' };
  }
  return undefined;
}

function settingWarnings(
  conf: CertbotRenewalConf,
  key: KeySpec,
  method: ChallengeMethod,
  hooks: HookCommands,
  notAfter: Date,
  options: ImportOptions,
  certbotDir: string,
  configDir: string,
): string[] {
  const out: string[] = [];
  const wanted = certbotKeySpec(conf);
  if (conf.keyType !== undefined && (wanted === undefined || !sameKeySpec(wanted, key))) {
    const asked = wanted === undefined ? `key_type = ${conf.keyType}` : describeKeySpec(wanted);
    out.push(`certbot was set to renew with ${asked}; certman renews with the current key's type, ${describeKeySpec(key)}`);
  }
  const installer = conf.installer?.toLowerCase();
  if (installer === 'nginx' || installer === 'apache') {
    const service = installer === 'apache' ? 'apache2' : 'nginx';
    out.push(`certbot's ${installer} installer reloaded ${installer} after each renewal, certman does not: add one with certman renew --cert-name <name> --deploy-hook "systemctl reload ${service}" (saved with its next renewal; add --force to renew now)`);
  }
  if (conf.preferredChain !== undefined && carriedChain(conf) === undefined) {
    out.push(`preferred_chain = ${printableLine(conf.preferredChain, 80)} is not a common name on one line: certman installs the CA's default chain`);
  }
  const profile = carriedProfile(conf);
  if (profile.warning !== undefined) out.push(profile.warning);
  if (conf.mustStaple) out.push('must_staple is not supported: renewed certificates will not have the OCSP must-staple extension');
  if (options.keepPaths !== true) {
    for (const [kind, command] of Object.entries(hooks)) {
      if (typeof command === 'string' && command.includes(certbotDir)) {
        out.push(`the ${kind} hook names ${certbotDir}, whose copy is no longer renewed: change it to ${configDir} (certman renew --cert-name <name> --${kind}-hook "…" saves the new one with its next renewal; add --force to renew now)`);
      }
    }
  }
  if (notAfter.getTime() <= options.now.getTime()) out.push(`it expired on ${notAfter.toISOString()}: the next certman renew renews it`);
  return out;
}

/** certbot's preferred_chain, renewed with as `--preferred-chain` when it is a printable common name. */
function carriedChain(conf: Pick<CertbotRenewalConf, 'preferredChain'>): string | undefined {
  const chain = conf.preferredChain;
  return chain !== undefined && printableLine(chain) === chain ? chain : undefined;
}

/**
 * The profile certman renews with: certbot's required_profile, else its preferred_profile. certman has no
 * fallback for a profile the CA stops offering (the renewal fails and says so), which a preferred one had.
 */
function carriedProfile(conf: Pick<CertbotRenewalConf, 'requiredProfile' | 'preferredProfile'>): { profile?: string; warning?: string } {
  const [key, name] = conf.requiredProfile !== undefined ? ['required_profile', conf.requiredProfile] : ['preferred_profile', conf.preferredProfile];
  if (name === undefined) return {};
  if (profileNameProblem(name) !== undefined) return { warning: `${key} = ${printableLine(name, 80)} is not a profile name (${PROFILE_NAME_RULE}): certman orders the CA's default profile` };
  if (key === 'required_profile') return { profile: name };
  return {
    profile: name,
    warning: `preferred_profile = ${name} is renewed as a required profile: if the CA stops offering it, renew fails and says so (certman renew --cert-name <name> --no-profile orders the default)`,
  };
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch {
    return false;
  }
}

interface ResolvedAccount {
  /** The account URL certman will renew this server's certificates with ('' when there is none). */
  url: string;
  /** The certbot account to save (imported status). */
  save?: StoredAccount;
}

/** One account per server: certman's existing one wins, else the first certbot account that can be read. */
async function resolveAccounts(
  plans: Plan[],
  certbotDir: string,
  options: ImportOptions,
  target: ImportTarget,
): Promise<{ accounts: AccountReport[]; accountUrls: Map<string, ResolvedAccount> }> {
  const byServer = new Map<string, Plan[]>();
  for (const plan of plans) byServer.set(plan.meta.server, [...(byServer.get(plan.meta.server) ?? []), plan]);
  const accounts: AccountReport[] = [];
  const accountUrls = new Map<string, ResolvedAccount>();

  for (const [server, group] of [...byServer].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const ids = [...new Set(group.map((p) => p.accountId).filter((id): id is string => id !== undefined))].sort();
    const found: CertbotAccount[] = [];
    const problems: string[] = [];
    for (const id of ids) {
      const dir = await findCertbotAccount(certbotDir, server, id);
      if (dir === undefined) {
        problems.push(`certbot's account ${id} is not in ${path.join(certbotDir, 'accounts')}`);
        continue;
      }
      try {
        found.push(await readCertbotAccount(dir));
      } catch (err) {
        problems.push(messageOf(err));
      }
    }

    // A deactivated account is as good as none: certbot's replaces it, unless it is that same account.
    const stored = await target.getAccount(server);
    const existing = activeAccount(stored);
    if (existing !== undefined) {
      const same = found.find((a) => a.url === existing.url);
      const report: AccountReport = { server, status: same === undefined ? 'kept' : 'present', url: existing.url };
      const certbotId = (same ?? found[0])?.id;
      if (certbotId !== undefined) report.certbotId = certbotId;
      if (same === undefined) report.detail = 'certman already has another account for this server and renews the imported certificates with it';
      accounts.push(report);
      accountUrls.set(server, { url: existing.url });
      continue;
    }
    const deactivated = stored?.deactivatedAt === undefined ? undefined : stored.url;
    const usable = found.filter((a) => a.url !== deactivated);
    if (usable.length < found.length) problems.push(`certbot's account ${deactivated ?? ''} was deactivated (certman account deactivate)`);
    const chosen = usable[0];
    if (chosen === undefined) {
      const why = problems.length > 0 ? problems.join('; ') : 'the lineages name no certbot account';
      accounts.push({ server, status: 'missing', detail: `${why}: run certman register --server ${server} --email <address> --agree-tos before renewing` });
      accountUrls.set(server, { url: '' });
      continue;
    }
    const others = usable.filter((a) => a.url !== chosen.url).map((a) => a.id);
    const detail = [
      ...(others.length > 0 ? [`certman keeps one account per server: the certificates of certbot account${others.length > 1 ? 's' : ''} ${others.join(', ')} renew with ${chosen.id}`] : []),
      ...problems,
    ];
    accounts.push({
      server,
      status: options.dryRun === true ? 'would-import' : 'imported',
      certbotId: chosen.id,
      url: chosen.url,
      ...(detail.length > 0 ? { detail: detail.join('; ') } : {}),
    });
    const save: StoredAccount = {
      server,
      url: chosen.url,
      keyPem: chosen.keyPem,
      createdAt: chosen.createdAt ?? options.now.toISOString(),
      ...(chosen.email === undefined ? {} : { email: chosen.email }),
    };
    accountUrls.set(server, { url: chosen.url, save });
  }
  return { accounts, accountUrls };
}

/** Who renews from now on. */
function globalNotes(importing: boolean, options: ImportOptions): string[] {
  const notes: string[] = [];
  if (!importing) return notes;
  if (options.keepPaths === true) {
    const dry = options.dryRun === true;
    notes.push(
      `certbot's live/ links of the imported certificates ${dry ? 'would point' : 'point'} at certman's files and their renewal confs ${dry ? 'would be' : 'are'} renamed *.conf${IMPORTED_CONF_SUFFIX}, so certbot no longer renews them; its archive/ is left as it was`,
    );
  } else {
    notes.push('certbot keeps renewing its own copies until told otherwise: once your web server uses the new paths, run certbot delete --cert-name <name> for each imported certificate (or disable certbot.timer / certbot\'s cron job)');
  }
  return notes;
}

/** keepPaths: certbot's live links → certman's live files (each switched atomically), then its conf renamed. */
async function relink(plan: Plan): Promise<void> {
  for (const link of plan.links) {
    const temp = `${link.from}.certman-${process.pid}`;
    await unlink(temp).catch(() => undefined);
    await symlink(link.to, temp);
    await rename(temp, link.from);
  }
  await rename(plan.confFile, `${plan.confFile}${IMPORTED_CONF_SUFFIX}`);
}

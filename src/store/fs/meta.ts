/**
 * (De)serialisation of renewal/<name>.json, the journal entries and accounts/…/account.json,
 * with enough validation that a damaged file is reported instead of crashing a caller later.
 */
import { PROFILE_NAME_RULE, profileNameProblem } from '../../acme/profiles.js';
import { normalizeSerial } from '../../crypto/certificate.js';
import { CertmanError } from '../../errors.js';
import type { CertificateMeta } from '../../lineage/types.js';
import { storedMethodProblem } from '../../lineage/node-local.js';
import type { StoreProblem } from '../types.js';
import { isRecord, parseJsonOrUndefined } from '../json.js';
import { printableLine } from '../../text.js';
import { endpointProblem } from '../../served/endpoint.js';

/** Version of the renewal/<name>.json layout (the `"format"` field, stripped on read). */
export const META_FORMAT = 1;

/** A store file exists but cannot be used (not JSON, wrong shape, newer format; see also UntrustedFileError). */
export class CorruptFileError extends CertmanError {
  readonly file: string;
  readonly reason: string;

  constructor(file: string, reason: string, say: { message?: string; hint?: string } = {}) {
    super(say.message ?? `${file} is damaged: ${reason}`, {
      hint: say.hint ?? `Repair or remove ${file}.`,
    });
    this.file = file;
    this.reason = reason;
  }

  /** As a certificate list() leaves out (see CertificateStore.problemDetails). */
  asProblem(name: string): StoreProblem {
    return { name, file: this.file, reason: this.reason, error: this };
  }
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isVersion = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;

/** Returns why `data` is not a CertificateMeta for `name`, or undefined if it looks like one. */
export function metaProblem(data: Record<string, unknown>, name: string): string | undefined {
  if (data.name !== name) return `"name" is ${JSON.stringify(data.name)}, expected ${JSON.stringify(name)}`;
  if (!Array.isArray(data.domains) || data.domains.length === 0 || !data.domains.every(isString)) {
    return '"domains" must be a non-empty list of strings';
  }
  if (!isVersion(data.version)) return '"version" must be a positive integer';
  for (const field of ['server', 'accountUrl', 'serial', 'notBefore', 'notAfter'] as const) {
    if (!isString(data[field])) return `"${field}" must be a string`;
  }
  if (typeof data.reuseKey !== 'boolean') return '"reuseKey" must be true or false';
  if (!isRecord(data.key) || !isString(data.key.type)) return '"key" must be an object with a "type"';
  if (!isRecord(data.method) || !isString(data.method.kind)) return '"method" must be an object with a "kind"';
  const methodProblem = storedMethodProblem(data.method);
  if (methodProblem !== undefined) return methodProblem;
  if (data.renewDays !== undefined && typeof data.renewDays !== 'number') return '"renewDays" must be a number';
  if (data.hooks !== undefined && !isRecord(data.hooks)) return '"hooks" must be an object';
  if (data.copyTo !== undefined && !(isRecord(data.copyTo) && Object.values(data.copyTo).every((path) => isString(path) && path.startsWith('/')))) {
    return '"copyTo" must map file kinds to absolute paths';
  }
  if (data.revoked !== undefined && !isRecord(data.revoked)) return '"revoked" must be an object';
  // The Redis store parses with this too: whoever can write it must not reach a terminal with escapes.
  if (data.profile !== undefined && !(isString(data.profile) && profileNameProblem(data.profile) === undefined)) return `"profile" must be a profile name (${PROFILE_NAME_RULE})`;
  // Shown in warnings: a name from a shared store must not carry terminal escapes either.
  if (data.preferredChain !== undefined && !(isString(data.preferredChain) && printableLine(data.preferredChain) === data.preferredChain)) {
    return '"preferredChain" must be a common name without control characters';
  }
  // Printed by `check` and connected to: each one must be a `host[:port]` as `issue --endpoint` stores it.
  if (data.endpoints !== undefined && !(Array.isArray(data.endpoints) && data.endpoints.every((e) => isString(e) && endpointProblem(e) === undefined))) {
    return '"endpoints" must be a list of host[:port]';
  }
  return undefined;
}

/** A JSON object from a store file, or a CorruptFileError naming the file. */
function parseJsonObject(text: string, file: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new CorruptFileError(file, 'not valid JSON');
  }
  if (!isRecord(data)) throw new CorruptFileError(file, 'not a JSON object');
  return data;
}

/**
 * Identity of the live certificate file when the metadata was written. If it differs later, someone
 * replaced the certificate by hand and the dates in the metadata can no longer be trusted.
 */
export interface FileStamp {
  ino: number;
  size: number;
  mtimeMs: number;
}

export function serializeMeta(meta: CertificateMeta, certStamp?: FileStamp): string {
  return `${JSON.stringify({ format: META_FORMAT, ...withNormalSerial(meta), ...(certStamp === undefined ? {} : { certStamp }) }, null, 2)}\n`;
}

/**
 * `meta` with its serial in the one form certman compares serials in (normalizeSerial): files written by
 * older versions' crash recovery hold "0abc" where the certificate says "abc".
 */
export function withNormalSerial<T extends { serial: string }>(meta: T): T {
  const serial = normalizeSerial(meta.serial);
  return serial === meta.serial ? meta : { ...meta, serial };
}

/** Parses the text of renewal/<name>.json (`file` is only used in messages). */
export function parseMeta(text: string, name: string, file: string): CertificateMeta {
  return parseMetaFile(text, name, file).meta;
}

/** Like parseMeta, also returning the certificate file's stamp when one was recorded. */
export function parseMetaFile(text: string, name: string, file: string): { meta: CertificateMeta; certStamp?: FileStamp } {
  const data = parseJsonObject(text, file);
  if (data.format !== META_FORMAT) {
    const newer = typeof data.format === 'number' && data.format > META_FORMAT;
    throw new CorruptFileError(
      file,
      newer ? `written by a newer certman (format ${data.format})` : `unknown "format" ${JSON.stringify(data.format)}`,
    );
  }
  const { format, certStamp, ...meta } = data;
  const problem = metaProblem(meta, name);
  if (problem !== undefined) throw new CorruptFileError(file, problem);
  const stamp = isRecord(certStamp) && [certStamp.ino, certStamp.size, certStamp.mtimeMs].every((v) => typeof v === 'number') ? (certStamp as unknown as FileStamp) : undefined;
  return { meta: withNormalSerial(meta as unknown as CertificateMeta), ...(stamp === undefined ? {} : { certStamp: stamp }) };
}

export function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/** A .pending/<name> entry: the version being switched to and, when written by certman, its metadata. */
export interface JournalEntry {
  version: number;
  meta?: CertificateMeta;
}

export function serializeJournal(entry: JournalEntry): string {
  return `${JSON.stringify(entry, null, 2)}\n`;
}

/** Parses a journal entry; undefined if it is unusable (a bare `{ "version": N }` is accepted). */
export function parseJournal(text: string, name: string): JournalEntry | undefined {
  const data = parseJsonOrUndefined(text);
  if (!isRecord(data) || !isVersion(data.version)) return undefined;
  const entry: JournalEntry = { version: data.version };
  if (isRecord(data.meta) && data.meta.version === data.version && metaProblem(data.meta, name) === undefined) {
    entry.meta = withNormalSerial(data.meta as unknown as CertificateMeta);
  }
  return entry;
}

/** account.json: everything of a StoredAccount except the key, which lives in private_key.pem. */
export interface AccountFile {
  server: string;
  url: string;
  email?: string;
  createdAt: string;
  termsAgreed?: { url?: string };
  deactivatedAt?: string;
}

/** Refuses an account no backend should store: without its URL or its key. */
export function checkAccountToSave(account: { url: string; keyPem: string }): void {
  if (account.url.trim() === '') throw new CertmanError('cannot save account: its URL is empty');
  if (account.keyPem.trim() === '') throw new CertmanError('cannot save account: its key is empty');
}

export function serializeAccount(account: AccountFile): string {
  // Fixed key order keeps the file easy to read and diff.
  const out: Record<string, unknown> = { server: account.server, url: account.url };
  if (account.email !== undefined) out.email = account.email;
  out.createdAt = account.createdAt;
  if (account.termsAgreed !== undefined) out.termsAgreed = account.termsAgreed.url === undefined ? {} : { url: account.termsAgreed.url };
  if (account.deactivatedAt !== undefined) out.deactivatedAt = account.deactivatedAt;
  return `${JSON.stringify(out, null, 2)}\n`;
}

export function parseAccount(text: string, file: string): AccountFile {
  const data = parseJsonObject(text, file);
  if (!isString(data.server) || !isString(data.url) || !isString(data.createdAt)) {
    throw new CorruptFileError(file, '"server", "url" and "createdAt" must be strings');
  }
  if (data.email !== undefined && !isString(data.email)) throw new CorruptFileError(file, '"email" must be a string');
  const account: AccountFile = { server: data.server, url: data.url, createdAt: data.createdAt };
  if (data.email !== undefined) account.email = data.email;
  if (data.termsAgreed !== undefined) account.termsAgreed = parseTermsAgreed(data.termsAgreed, file);
  if (data.deactivatedAt !== undefined) {
    // Printed by `account show` and in errors: only a time, whoever wrote the store.
    if (!isString(data.deactivatedAt) || Number.isNaN(Date.parse(data.deactivatedAt))) throw new CorruptFileError(file, '"deactivatedAt" must be an ISO time');
    account.deactivatedAt = new Date(data.deactivatedAt).toISOString();
  }
  return account;
}

function parseTermsAgreed(value: unknown, file: string): { url?: string } {
  const url = (value as { url?: unknown } | null)?.url;
  if (typeof value !== 'object' || value === null || Array.isArray(value) || (url !== undefined && !isString(url))) {
    throw new CorruptFileError(file, '"termsAgreed" must be an object with an optional "url" string');
  }
  return url === undefined ? {} : { url };
}

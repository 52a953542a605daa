/**
 * certbot's ACME accounts: accounts/<host[:port]><directory path>/<id>/ holding
 *   private_key.json   the account key as a JWK (RFC 7517), RSA 2048 for accounts certbot 2.x makes
 *   regr.json          {"body": {...}, "uri": "<account URL>"} (older versions keep the contact in body)
 *   meta.json          {"creation_dt": "2025-01-01T00:00:00Z", "creation_host": "…"}
 */
import { createPrivateKey, type JsonWebKey } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { CertmanError, messageOf } from '../errors.js';

export interface CertbotAccount {
  /** certbot's account id (the folder name). */
  id: string;
  /** The folder the files were read from. */
  dir: string;
  /** Account URL (the JWS kid). */
  url: string;
  /** The key as PKCS#8 PEM. */
  keyPem: string;
  email?: string;
  /** ISO time certbot created it, when recorded. */
  createdAt?: string;
}

/** A JWK private key (RSA or EC, as certbot stores account keys) as PKCS#8 PEM; CertmanError if it is not one. */
export function jwkToPem(jwk: unknown): string {
  if (typeof jwk !== 'object' || jwk === null || typeof (jwk as { kty?: unknown }).kty !== 'string') {
    throw new CertmanError('not a JSON Web Key (no "kty")');
  }
  let key;
  try {
    key = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch (err) {
    throw new CertmanError(`not a usable private JSON Web Key: ${messageOf(err)}`, { cause: err });
  }
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * Where certbot keeps the accounts of a server: accounts/ + the URL without its scheme
 * (Python's netloc + path), e.g. accounts/acme-v02.api.letsencrypt.org/directory.
 */
export function certbotAccountsDir(certbotDir: string, server: string): string | undefined {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return undefined;
  }
  const rest = `${url.host}${url.pathname}`.replace(/\/+$/, '');
  const segments = rest.split('/').filter((s) => s !== '' && s !== '.' && s !== '..');
  return path.join(certbotDir, 'accounts', ...segments);
}

const ACCOUNT_ID = /^[A-Za-z0-9_-]+$/;
/** Deep enough for accounts/<host>/<path…>/<id> with a few path segments. */
const MAX_SEARCH_DEPTH = 6;

/**
 * The folder of account `id` for `server`: the place certbot uses, else the only folder named
 * `id` with a private_key.json anywhere under accounts/ (a server URL spelled differently, a
 * Let's Encrypt v1 account). Undefined when there is none.
 */
export async function findCertbotAccount(certbotDir: string, server: string, id: string): Promise<string | undefined> {
  if (!ACCOUNT_ID.test(id)) return undefined;
  const base = certbotAccountsDir(certbotDir, server);
  if (base !== undefined && (await hasKey(path.join(base, id)))) return path.join(base, id);
  const found: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > MAX_SEARCH_DEPTH) return;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const child = path.join(dir, entry.name);
      if (entry.name === id && (await hasKey(child))) found.push(child);
      else await walk(child, depth + 1);
    }
  };
  await walk(path.join(certbotDir, 'accounts'), 0);
  return found.length === 1 ? found[0] : undefined;
}

async function hasKey(dir: string): Promise<boolean> {
  try {
    await readFile(path.join(dir, 'private_key.json'));
    return true;
  } catch {
    return false;
  }
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CertmanError(`cannot read ${file}: ${messageOf(err)}`, { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CertmanError(`${file} is not valid JSON`);
  }
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Reads one certbot account folder; CertmanError naming the file when something is missing or damaged. */
export async function readCertbotAccount(dir: string): Promise<CertbotAccount> {
  const id = path.basename(dir);
  const keyFile = path.join(dir, 'private_key.json');
  let keyPem: string;
  try {
    keyPem = jwkToPem(await readJson(keyFile));
  } catch (err) {
    throw new CertmanError(`${keyFile}: ${messageOf(err)}`, { cause: err });
  }
  const regrFile = path.join(dir, 'regr.json');
  const regr = record(await readJson(regrFile));
  const url = regr.uri;
  if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new CertmanError(`${regrFile} has no account URL ("uri")`);
  const account: CertbotAccount = { id, dir, url, keyPem };

  const contact = record(regr.body).contact;
  const mail = Array.isArray(contact) ? contact.find((c): c is string => typeof c === 'string' && c.startsWith('mailto:')) : undefined;
  if (mail !== undefined) account.email = mail.slice('mailto:'.length);

  try {
    const created = record(await readJson(path.join(dir, 'meta.json'))).creation_dt;
    const time = typeof created === 'string' ? new Date(created) : undefined;
    if (time !== undefined && !Number.isNaN(time.getTime())) account.createdAt = time.toISOString();
  } catch {
    // meta.json only tells when; the account works without it
  }
  return account;
}

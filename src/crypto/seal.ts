/**
 * Sealing secrets (private keys) before they leave this host for a shared store: AES-256-GCM under a 256-bit
 * store key. A blob names the key's id, so a store can tell "sealed under another key" (rotation, a wrong key)
 * from "damaged", and the associated data binds a blob to where it is stored, so a blob copied to another
 * place (another lineage's key) does not open there.
 *
 *   certman-sealed:v1:<key id>:<iv, base64url>:<tag, base64url>:<ciphertext, base64url>
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

import { CertmanError } from '../errors.js';

const PREFIX = 'certman-sealed:v1:';
const KEY_BYTES = 32;
const IV_BYTES = 12;

/** A 256-bit store key and its public id (a hash prefix, never the key). */
export interface SealKey {
  readonly id: string;
  readonly secret: Buffer;
}

export function sealKey(secret: Buffer): SealKey {
  if (secret.length !== KEY_BYTES) {
    throw new CertmanError(`the store key must be ${KEY_BYTES} bytes (256 bits), not ${secret.length}`, { hint: 'generate one with: openssl rand 32 > store.key' });
  }
  return { id: createHash('sha256').update('certman store key\0').update(secret).digest('base64url').slice(0, 16), secret: Buffer.from(secret) };
}

/**
 * The store keys a store is opened with: the first seals, every one opens what names its id (during a rotation the
 * new key comes first and the old one still opens what is not re-sealed yet).
 */
export type SealKeys = readonly [SealKey, ...SealKey[]];

/** The keys of `secrets`, first the sealing one; a CertmanError when there is none or one is not 256 bits. */
export function sealKeys(secrets: readonly Buffer[]): SealKeys {
  const [first, ...rest] = secrets.map(sealKey);
  if (first === undefined) throw new CertmanError('no store key given', { hint: 'generate one with: openssl rand -hex 32' });
  return [first, ...rest];
}

export function isSealed(text: string): boolean {
  return text.startsWith(PREFIX);
}

/** The id of the key a blob names, or undefined when it is not a sealed blob. */
export function sealedKeyId(blob: string): string | undefined {
  return isSealed(blob) ? blob.slice(PREFIX.length).split(':')[0] : undefined;
}

/** Encrypts `plaintext` for the place named `where` (e.g. the Redis key and field it is stored under). */
export function seal(key: SealKey, plaintext: string, where: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.secret, iv);
  cipher.setAAD(Buffer.from(where));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${PREFIX}${key.id}:${iv.toString('base64url')}:${cipher.getAuthTag().toString('base64url')}:${body.toString('base64url')}`;
}

/**
 * Decrypts a blob sealed for `where` with the key (of `keys`) whose id it names; a CertmanError when it is not one,
 * names a key not given, or was altered.
 */
export function unseal(keys: SealKey | readonly SealKey[], blob: string, where: string): string {
  const parts = isSealed(blob) ? blob.slice(PREFIX.length).split(':') : [];
  const [id, iv, tag, body] = parts;
  if (parts.length !== 4 || id === undefined || iv === undefined || tag === undefined || body === undefined) {
    throw new CertmanError(`${where} is not a sealed secret: refusing to use it`, { hint: 'it was not written by certman; remove it or restore it from a backup' });
  }
  const given = Array.isArray(keys) ? (keys as readonly SealKey[]) : [keys as SealKey];
  const key = given.find((k) => k.id === id);
  if (key === undefined) {
    const ids = given.map((k) => k.id).join(', ');
    throw new CertmanError(`${where} is sealed under store key ${id}, not ${given.length === 1 ? 'this store key' : 'any of the store keys given'} (${ids})`, {
      hint: 'give certman the store key the store was written with',
    });
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.secret, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(where));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new CertmanError(`${where} does not open with the store key ${key.id}: it was altered or moved`, { hint: 'restore it from a backup, or save it again' });
  }
}

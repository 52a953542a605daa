/**
 * Where the Redis store keeps what (every key under one prefix, default `certman:`, so fleets can share a Redis):
 *
 *   <prefix>key-check                    a marker sealed with the store key (key-check.ts)
 *   <prefix>names                        set of lineage names
 *   <prefix>cert:<name>:meta             CertificateMeta JSON (with "format", like renewal/<name>.json) of the live version
 *   <prefix>cert:<name>:files            hash: "<N>:cert", "<N>:chain", "<N>:fullchain", "<N>:privkey" (sealed)
 *                                        of every version N, and "last": the highest N ever used
 *   <prefix>account:<server-key>         hash: "account" (account.json's JSON), "key" (the sealed PKCS#8 PEM)
 *   <prefix>lease:cert:<name>            owner id of the run holding the lineage, expiring (PX)
 *   <prefix>lease:account:<server-key>   owner id of the run registering at that CA
 *   <prefix>state:<key>                  small JSON documents
 *   <prefix>token:<token>                pending HTTP-01 entries, expiring (PX)
 *   <prefix>changes                      pub/sub channel: the name of each lineage saved or deleted (changes.ts)
 */
import { isSafeToken } from '../../challenge/token.js';
import { serverKey } from '../fs/names.js';
import type { LeaseTarget } from '../types.js';

export const DEFAULT_PREFIX = 'certman:';

/** Why `prefix` cannot prefix a store's keys, or undefined. Kept to characters that need no quoting anywhere. */
export function prefixProblem(prefix: string): string | undefined {
  return /^[A-Za-z0-9:._-]{1,100}$/.test(prefix) ? undefined : 'a store prefix is 1 to 100 letters, digits, ":", ".", "_" and "-"';
}

export class RedisKeys {
  constructor(readonly prefix: string) {}

  get keyCheck(): string {
    return `${this.prefix}key-check`;
  }

  get names(): string {
    return `${this.prefix}names`;
  }

  meta(name: string): string {
    return `${this.prefix}cert:${name}:meta`;
  }

  files(name: string): string {
    return `${this.prefix}cert:${name}:files`;
  }

  /** Where a lineage's private keys are sealed for: a blob moved to another lineage does not open there. */
  privkeyPlace(name: string): string {
    return `${this.files(name)} privkey`;
  }

  account(server: string): string {
    return `${this.prefix}account:${serverKey(server)}`;
  }

  /** Where an account's key is sealed for. */
  accountKeyPlace(server: string): string {
    return `${this.account(server)} key`;
  }

  /** Where a key rollover's pending key is sealed for (StoredAccount.pendingKeyPem): it never opens as the key itself. */
  accountPendingKeyPlace(server: string): string {
    return `${this.account(server)} pendingKey`;
  }

  /** SCAN pattern of every pending token key. */
  get tokenPattern(): string {
    return `${this.prefix}token:*`;
  }

  /** The token a key of {@link tokenPattern} holds, when it is one (another prefix's key may match the pattern too). */
  tokenOf(key: string): string | undefined {
    const token = key.slice(this.token('').length);
    return key === this.token(token) && isSafeToken(token) ? token : undefined;
  }

  /** SCAN pattern of every account hash (the prefix holds no glob characters: prefixProblem). */
  get accountPattern(): string {
    return `${this.prefix}account:*`;
  }

  lease(target: LeaseTarget): string {
    return 'certificate' in target ? `${this.prefix}lease:cert:${target.certificate}` : `${this.prefix}lease:account:${serverKey(target.account)}`;
  }

  state(key: string): string {
    return `${this.prefix}state:${key}`;
  }

  /** The channel save and delete publish a lineage's name on (not a key: nothing is stored there). */
  get changes(): string {
    return `${this.prefix}changes`;
  }

  token(token: string): string {
    return `${this.prefix}token:${token}`;
  }
}

/** The hash field of one PEM file of version `version`. */
export function fileField(version: number, kind: string): string {
  return `${version}:${kind}`;
}

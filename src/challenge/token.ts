import { CertmanError } from '../errors.js';

/** RFC 8555 §8.1 tokens are base64url; anything else could be a path trick from a hostile server. */
const TOKEN = /^[A-Za-z0-9_-]{1,128}$/;

export function isSafeToken(token: string): boolean {
  return TOKEN.test(token);
}

export function assertSafeToken(token: string): void {
  if (!isSafeToken(token)) throw new CertmanError(`the CA sent a challenge token that is not base64url: ${JSON.stringify(token.slice(0, 40))}`);
}

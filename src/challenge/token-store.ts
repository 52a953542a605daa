/**
 * Where pending HTTP-01 key authorizations live between the run that publishes them (`issue` or
 * `renew` with `--responder`) and the long-running `serve-challenge` that answers the CA.
 * On one machine that is the config dir (token-store-fs.ts); a fleet shares a networked store
 * (Redis, later). The server only ever sees this interface.
 */
export interface PendingToken {
  keyAuthorization: string;
  /** The ASCII (punycode) name the token was issued for, lowercase. */
  domain: string;
}

export interface TokenStore {
  /** Makes the token pending for `ttlMs`; durable once the promise resolves (the CA may fetch at once). */
  put(token: string, keyAuthorization: string, domain: string, ttlMs: number): Promise<void>;
  /** The pending entry, or undefined when the token is unknown, expired or not a valid token. */
  get(token: string): Promise<PendingToken | undefined>;
  /** Withdraws the token; a missing one is not an error. */
  delete(token: string): Promise<void>;
}

/** How long a published token stays pending when nobody withdraws it (a killed run). */
export const DEFAULT_TOKEN_TTL_MS = 10 * 60_000;

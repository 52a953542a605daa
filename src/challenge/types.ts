/** Publishes HTTP-01 key authorizations where the CA will fetch them. */
export interface Http01Responder {
  /** Makes `keyAuthorization` answer at http://<domain>/.well-known/acme-challenge/<token>. */
  publish(domain: string, token: string, keyAuthorization: string): Promise<void>;
  unpublish(token: string): Promise<void>;
  /** Withdraws every token still published and releases ports and folders. Safe to call twice. */
  close(): Promise<void>;
}

export const CHALLENGE_PATH = '/.well-known/acme-challenge/';

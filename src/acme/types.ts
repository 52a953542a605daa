/** The RFC 8555 resources certman reads. Only the fields it uses are typed. */

export type Status = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid' | 'deactivated' | 'expired' | 'revoked';

export interface Identifier {
  type: string;
  value: string;
}

export interface ProblemDocument {
  type?: string;
  detail?: string;
  subproblems?: unknown[];
}

export interface Challenge {
  type: string;
  url: string;
  status: Status;
  token: string;
  error?: ProblemDocument;
}

export interface Authorization {
  url: string;
  identifier: Identifier;
  status: Status;
  wildcard?: boolean;
  challenges: Challenge[];
}

export interface Order {
  url: string;
  status: Status;
  identifiers: Identifier[];
  authorizations: string[];
  finalize: string;
  certificate?: string;
  error?: ProblemDocument;
}

export interface Account {
  url: string;
  status: Status;
  contact: string[];
}

export interface DirectoryMeta {
  termsOfService?: string;
  externalAccountRequired?: boolean;
  /** The domain names this CA recognizes in CAA `issue` records (RFC 8555 §7.1.1). */
  caaIdentities?: string[];
  /** The profiles a new order may name, each with its description (draft-ietf-acme-profiles). */
  profiles?: Record<string, string>;
}

/** RFC 5280 CRLReason codes that RFC 8555 §7.6 lets a subscriber use. */
export const REVOCATION_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
} as const;
export type RevocationReason = keyof typeof REVOCATION_REASONS;

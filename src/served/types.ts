/**
 * What a TLS endpoint presents for a certificate's name, set against what the store holds: the words `check`,
 * `renew --verify-deploy`, `sync --verify-deploy` and the metrics share.
 */

/**
 * `live`: the store's live version. `older`: an earlier version of the same lineage (a deploy that never reached
 * the server). `other`: any other certificate. `unreachable`: no TLS handshake (refused, timed out, no certificate).
 */
export type ServedStatus = 'live' | 'older' | 'other' | 'unreachable';

export const SERVED_STATUSES: readonly ServedStatus[] = ['live', 'older', 'other', 'unreachable'];

/** Where to connect and which name to ask for. */
export interface Endpoint {
  /** DNS name or IP address (IPv6 without brackets). */
  host: string;
  port: number;
  /** The SNI name sent; none for an IP address (RFC 6066 §3 allows only host names). */
  servername?: string;
}

/** The leaf certificate an endpoint presented. */
export interface PresentedCertificate {
  /** Lowercase hex, no separators, no leading zeros (as CertificateMeta.serial). */
  serial: string;
  notBefore: string;
  notAfter: string;
  /** SHA-256 of the DER, lowercase hex without separators: what tells two certificates apart. */
  fingerprint: string;
  subject: string;
  issuer: string;
  /** DNS and IP subjectAltNames. */
  names: string[];
}

/** One endpoint's answer, as stored and printed. */
export interface EndpointCheck {
  /** `host:port` (`[v6]:port`), as the operator wrote or certman chose it. */
  endpoint: string;
  servername?: string;
  status: ServedStatus;
  /** Absent when unreachable. */
  certificate?: PresentedCertificate;
  /** With `older`: which stored version it is. */
  version?: number;
  /** With `unreachable`: why, in one line. */
  error?: string;
}

/**
 * The last check of each certificate's endpoints, kept in the state store under {@link SERVED_CHECK_KEY} as
 * { "<certificate name>": ServedCheck } so `certman metrics` can report it without connecting anywhere.
 */
export interface ServedCheck {
  /** ISO time the check finished. */
  checkedAt: string;
  /** The live version's serial when checked: a later renewal makes the check stale. */
  liveSerial: string;
  endpoints: EndpointCheck[];
}

export const SERVED_CHECK_KEY = 'served-check';

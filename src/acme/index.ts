export { AcmeClient, connectAcme, type ConnectOptions } from './client.js';
export { REVOCATION_REASONS, type RevocationReason } from './types.js';

import type { AcmeClient } from './client.js';

/** Opens a client for one server and account key; built once per run with the run's TLS and timeout policy. */
export type AcmeConnector = (options: {
  server: string;
  accountKeyPem: string;
  accountUrl?: string;
  eab?: { kid: string; hmacKey: string };
}) => Promise<AcmeClient>;

// acme-client's internal HTTP client as AcmeClient drives it (SigningHttp), answering from scripts:
// for unit tests of AcmeClient's own logic without a CA.
import { AcmeClient, type AccountRecovery } from '../../src/acme/client.js';

export interface FakeResponse {
  status: number;
  data: unknown;
  headers: Record<string, string>;
}

export interface FakeOptions {
  /** Answers to signed requests, in order; a signed request with none left fails the test. */
  signed?: FakeResponse[];
  /** Answers to unsigned GETs, in order. */
  get?: FakeResponse[];
  accountUrl?: string;
  recoverAccount?: AccountRecovery;
}

export function fakeHttp(directory: Record<string, unknown>, answers: FakeOptions) {
  const signed: { url: string; payload: unknown; kid: string | null | undefined }[] = [];
  const gets: string[] = [];
  const http = {
    maxBadNonceRetries: 5,
    signedRequest: async (url: string, payload: unknown, options: { kid?: string | null }) => {
      signed.push({ url, payload, kid: options.kid });
      const next = answers.signed?.shift();
      if (next === undefined) throw new Error('unexpected signed request');
      return next;
    },
    request: async (url: string) => {
      gets.push(url);
      const next = answers.get?.shift();
      if (next === undefined) throw new Error('unexpected request');
      return next;
    },
    getResourceUrl: async (name: string) => String(directory[name]),
    getDirectory: async () => directory,
  };
  const client = new AcmeClient(
    http as unknown as ConstructorParameters<typeof AcmeClient>[0],
    'https://ca.test/dir',
    answers.accountUrl ?? 'https://ca.test/acct/1',
    1000,
    answers.recoverAccount,
  );
  return { client, signed, gets };
}

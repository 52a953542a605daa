/**
 * How certman's ACME requests behave on the wire: request timeout, extra trusted CAs, and retries.
 *
 * acme-client's own axios interceptor waits 5 s × attempt on network errors, sleeps for any Retry-After
 * (even hours on a rate limit) and, when retries run out without a response, throws a TypeError that
 * hides the real error. We replace it with a policy that fails fast and says what happened.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { AxiosError, AxiosResponse } from 'axios' with { 'resolution-mode': 'require' };
import { CertmanError, NetworkError } from '../errors.js';
import { PerOriginLimiter } from './rate-limit.js';

export interface HttpPolicy {
  /** Extra PEM CA certificates to trust for the ACME server's TLS (e.g. Pebble's listener). */
  caFile?: string;
  /** Per-request timeout. */
  timeoutMs: number;
  /** Requests per second to one CA, whatever the concurrency. */
  requestsPerSecond: number;
}

/** Default request rate per CA: well under Let's Encrypt's per-IP limit of 250 per second on /acme/*. */
export const DEFAULT_REQUESTS_PER_SECOND = 100;

/** Longest Retry-After certman waits for inside one run; longer ones fail the request with a hint. */
const MAX_RETRY_AFTER_MS = 30_000;
const MAX_RETRIES = 3;

type RetryConfig = { certmanAttempt?: number };
/** acme-client's shared axios instance (typed through acme-client so CJS and ESM typings agree). */
type AxiosInstance = (typeof import('acme-client'))['axios'];

export function applyHttpPolicy(axios: AxiosInstance, policy: HttpPolicy): void {
  axios.defaults.timeout = policy.timeoutMs;
  axios.defaults.httpsAgent = new Agent({ keepAlive: true, ca: trustedCas(policy.caFile) });
  const limiter = new PerOriginLimiter(policy.requestsPerSecond);
  axios.interceptors.request.use(async (config) => {
    if (config.url !== undefined) await limiter.take(config.url);
    return config;
  });
  axios.interceptors.response.clear();
  axios.interceptors.response.use(undefined, (error: AxiosError) => handleFailure(axios, error, policy));
}

/**
 * Setting `ca` replaces Node's default trust store, which would drop NODE_EXTRA_CA_CERTS:
 * keep the bundled roots and that file alongside the --ca-file certificates.
 */
function trustedCas(caFile: string | undefined): string[] | undefined {
  if (caFile === undefined) return undefined;
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  return [...rootCertificates, readCa(caFile), ...(extra === undefined || extra === '' ? [] : [readCa(extra)])];
}

function readCa(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CertmanError(`cannot read CA file ${file}: ${(err as Error).message}`, { exitCode: 2 });
  }
}

async function handleFailure(axios: AxiosInstance, error: AxiosError, policy: HttpPolicy): Promise<AxiosResponse> {
  const config = error.config as (typeof error.config & RetryConfig) | undefined;
  const response = error.response;
  if (config === undefined) throw error;
  const attempt = (config.certmanAttempt ?? 0) + 1;

  if (response === undefined) {
    // Connection refused, reset, DNS failure or timeout: a short retry helps a restarting server, no more.
    if (attempt <= 1 && error.code !== 'ECONNABORTED' && error.code !== 'ETIMEDOUT') {
      config.certmanAttempt = attempt;
      await sleep(500);
      return axios.request(config);
    }
    throw networkError(error, config.url, policy.timeoutMs);
  }

  const retryable = response.status === 429 || response.status >= 500;
  if (retryable && attempt <= MAX_RETRIES) {
    const waitMs = retryAfterMs(response.headers['retry-after']) ?? 1000 * attempt;
    if (waitMs <= MAX_RETRY_AFTER_MS) {
      config.certmanAttempt = attempt;
      await sleep(waitMs);
      return axios.request(config);
    }
  }
  // Every other status reaches the caller, which reads the problem document.
  return response;
}

function networkError(error: AxiosError, url: string | undefined, timeoutMs: number): NetworkError {
  const where = url === undefined ? 'the ACME server' : new URL(url).origin;
  if (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT') {
    return new NetworkError(`no answer from ${where} within ${Math.round(timeoutMs / 1000)} s`, {
      hint: 'check that the ACME server is up and reachable (--server)',
    });
  }
  return new NetworkError(`cannot reach ${where}: ${error.message}`, {
    hint: 'check the --server URL, the network, and --ca-file for a private CA',
    cause: error,
  });
}

/** Retry-After as milliseconds (RFC 9110: delay-seconds or HTTP-date), undefined when absent or invalid. */
export function retryAfterMs(header: unknown, now: number = Date.now()): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

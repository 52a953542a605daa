/**
 * How certman's ACME requests behave on the wire: a deadline per request, extra trusted CAs, retries.
 *
 * acme-client's own axios interceptor waits 5 s × attempt on network errors, sleeps for any Retry-After
 * (even hours on a rate limit) and, when retries run out without a response, throws a TypeError that
 * hides the real error. We replace it with a policy that fails fast and says what happened. Every
 * request acme-client sends (signed or not: directory, newNonce, ARI) goes through it.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { AxiosError, AxiosResponse, InternalAxiosRequestConfig } from 'axios' with { 'resolution-mode': 'require' };
import { CertmanError, NetworkError } from '../errors.js';
import { PerOriginLimiter } from './rate-limit.js';

export interface HttpPolicy {
  /** Extra PEM CA certificates to trust for the ACME server's TLS (e.g. Pebble's listener). */
  caFile?: string;
  /** Deadline of one request, from sending it to the last byte of the answer (a slow trickle counts). */
  timeoutMs: number;
  /** Requests per second to one CA, whatever the concurrency. */
  requestsPerSecond: number;
  /** Longest Retry-After waited for inside a run; a longer one ends the request with the CA's answer. */
  maxRetryAfterMs: number;
}

/** Default request rate per CA: well under Let's Encrypt's per-IP limit of 250 per second on /acme/*. */
export const DEFAULT_REQUESTS_PER_SECOND = 100;
/** Default cap on a Retry-After certman waits for (config maxRetryAfter, seconds). */
export const DEFAULT_MAX_RETRY_AFTER_SECONDS = 30;
/** Retries of one request after a 429, a 5xx or a lost connection. */
export const MAX_RETRIES = 3;

/** What one failed attempt looked like, for {@link retryDecision}. */
export interface AttemptFailure {
  /** HTTP status; undefined when no answer came (refused, reset, timed out). */
  status?: number;
  /** The answer's Retry-After header, as received. */
  retryAfter?: unknown;
  /** No answer within the deadline: the CA stalls, and asking again would only wait again. */
  timedOut: boolean;
}

export type RetryDecision = { retry: true; waitMs: number } | { retry: false };

/**
 * Whether attempt number `attempt` (1 for the first failure) is worth repeating, and after how long.
 * 429 and 5xx are retried after their Retry-After, or 1 s × attempt without one, unless the CA asks for
 * longer than `maxRetryAfterMs` (then its answer, e.g. a rateLimited problem, reaches the caller). A
 * refused or reset connection is retried after 0.5, 1, 2 s (a restarting server, a dropped connection);
 * a timeout is not.
 */
export function retryDecision(failure: AttemptFailure, attempt: number, maxRetryAfterMs: number, now: number = Date.now()): RetryDecision {
  if (attempt > MAX_RETRIES) return { retry: false };
  if (failure.status === undefined) return failure.timedOut ? { retry: false } : { retry: true, waitMs: 500 * 2 ** (attempt - 1) };
  if (failure.status !== 429 && failure.status < 500) return { retry: false };
  const waitMs = retryAfterMs(failure.retryAfter, now) ?? 1000 * attempt;
  return waitMs <= maxRetryAfterMs ? { retry: true, waitMs } : { retry: false };
}

type RetryConfig = InternalAxiosRequestConfig & { certmanAttempt?: number };
/** acme-client's shared axios instance (typed through acme-client so CJS and ESM typings agree). */
type AxiosInstance = (typeof import('acme-client'))['axios'];

export function applyHttpPolicy(axios: AxiosInstance, policy: HttpPolicy): void {
  axios.defaults.httpsAgent = new Agent({ keepAlive: true, ca: trustedCas(policy.caFile) });
  const limiter = new PerOriginLimiter(policy.requestsPerSecond);
  const stalled = new StalledOrigins(policy.timeoutMs);
  axios.interceptors.request.use(async (config) => {
    if (config.url !== undefined) {
      stalled.check(config.url);
      await limiter.take(config.url);
    }
    // axios's own timeout only notices an idle socket; this one also ends an answer that trickles in.
    config.signal = AbortSignal.timeout(policy.timeoutMs);
    return config;
  });
  axios.interceptors.response.clear();
  axios.interceptors.response.use(undefined, (error: AxiosError) => handleFailure(axios, error, policy, stalled));
}

/**
 * Origins that let a request run into its deadline. The rest of the run fails their requests at once,
 * so a stalled CA costs one --timeout, not one per certificate.
 */
class StalledOrigins {
  private readonly origins = new Set<string>();

  constructor(private readonly timeoutMs: number) {}

  mark(url: string): void {
    this.origins.add(new URL(url).origin);
  }

  check(url: string): void {
    const origin = new URL(url).origin;
    if (!this.origins.has(origin)) return;
    throw new NetworkError(`${origin} did not answer within ${seconds(this.timeoutMs)} earlier in this run; not asking it again`, {
      hint: 'check that the ACME server is up and reachable (--server), or raise --timeout',
    });
  }
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

async function handleFailure(axios: AxiosInstance, error: AxiosError, policy: HttpPolicy, stalled: StalledOrigins): Promise<AxiosResponse> {
  const config = error.config as RetryConfig | undefined;
  const response = error.response;
  // Not an axios error: the request interceptor refused to send (a stalled origin).
  if (config === undefined) throw error;
  const timedOut = response === undefined && isTimeout(error, config);
  const attempt = (config.certmanAttempt ?? 0) + 1;
  const decision = retryDecision(
    { ...(response === undefined ? {} : { status: response.status, retryAfter: response.headers['retry-after'] }), timedOut },
    attempt,
    policy.maxRetryAfterMs,
  );
  if (decision.retry) {
    config.certmanAttempt = attempt;
    await sleep(decision.waitMs);
    return axios.request(config);
  }
  if (response !== undefined) return response; // the caller reads the problem document
  if (timedOut && config.url !== undefined) stalled.mark(config.url);
  throw networkError(error, config.url, timedOut, policy.timeoutMs);
}

function isTimeout(error: AxiosError, config: RetryConfig): boolean {
  if (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT') return true;
  const reason: unknown = config.signal?.aborted === true ? (config.signal as AbortSignal).reason : undefined;
  return reason instanceof Error && reason.name === 'TimeoutError';
}

function networkError(error: AxiosError, url: string | undefined, timedOut: boolean, timeoutMs: number): NetworkError {
  const where = url === undefined ? 'the ACME server' : new URL(url).origin;
  if (timedOut) {
    return new NetworkError(`no answer from ${where} within ${seconds(timeoutMs)}`, {
      hint: 'check that the ACME server is up and reachable (--server), or raise --timeout',
    });
  }
  return new NetworkError(`cannot reach ${where}: ${error.message}`, {
    hint: 'check the --server URL, the network, and --ca-file for a private CA',
    cause: error,
  });
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
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

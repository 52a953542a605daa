/**
 * A small RFC 8555 client. acme-client signs the requests (JWS, nonces, badNonce retries, EAB);
 * this class sends them, keeps Replay-Nonces for reuse, reads problem documents and polls.
 */
import type { AxiosResponse } from 'axios' with { 'resolution-mode': 'require' };
import { AcmeProblemError, CertmanError, RateLimitPause } from '../errors.js';
import { parseRenewalInfo, renewalInfoRequestUrl, type RenewalInfo } from './ari.js';
import { applyHttpPolicy, DEFAULT_MAX_RETRY_AFTER_SECONDS, DEFAULT_REQUESTS_PER_SECOND, retryAfterMs } from './http-policy.js';
import { acmeIdentifier } from '../dns/ip.js';
import { linksOf, type Links } from './link.js';
import { pollUntil } from './poll.js';
import { problemError, retryAfterTime } from './problem.js';
import { isRateLimited, rateLimitedUntil } from './rate-limited.js';
import { REVOCATION_REASONS, type Account, type Authorization, type DirectoryMeta, type Order, type RevocationReason } from './types.js';

/**
 * What certman uses of acme-client's internal HTTP client (`Client#http`, not in its typings; pinned
 * at acme-client 5.4.0, and test/unit/acme.test.ts fails when these internals change).
 */
export interface SigningHttp {
  /**
   * How often signedRequest re-signs a request the CA refused with badNonce, each time with the
   * fresh nonce from the error answer (RFC 8555 §6.5). acme-client's default is 5.
   */
  maxBadNonceRetries: number;
  signedRequest(
    url: string,
    payload: object | null,
    options: { kid?: string | null; nonce?: string | null; includeExternalAccountBinding?: boolean },
  ): Promise<AxiosResponse>;
  /** Unsigned request (acme-client sets `validateStatus: null`, so every status resolves). */
  request(url: string, method: 'get' | 'head'): Promise<AxiosResponse>;
  getResourceUrl(resource: string): Promise<string>;
  getDirectory(): Promise<{ meta?: DirectoryMeta; renewalInfo?: unknown }>;
}

const ALREADY_REPLACED = 'urn:ietf:params:acme:error:alreadyReplaced';
const ACCOUNT_DOES_NOT_EXIST = 'urn:ietf:params:acme:error:accountDoesNotExist';
const ORDER_NOT_READY = 'urn:ietf:params:acme:error:orderNotReady';

/**
 * Called when the CA answers accountDoesNotExist for the account a request was signed as (the CA was
 * reset, or the account deleted): returns the account URL to sign as from then on, or throws an error
 * saying what to do. src/registration/account.ts decides whether registering the key again is safe.
 */
export type AccountRecovery = (client: AcmeClient, lostUrl: string) => Promise<string>;

/**
 * badNonce retries per signed request. A CA may refuse any nonce (Pebble refuses 5% by default, and
 * tests run it at 50%): with acme-client's 5, one request in 64 still failed at 50% and a renewal of
 * a few certificates usually lost one. 20 makes that one in two million, and still ends a loop with
 * a CA that refuses every nonce.
 */
export const BAD_NONCE_RETRIES = 20;

export interface ConnectOptions {
  server: string;
  accountKeyPem: string;
  accountUrl?: string;
  eab?: { kid: string; hmacKey: string };
  caFile?: string;
  /** Per HTTP request. */
  requestTimeoutMs?: number;
  /** Request rate limit per CA for this process (the first connection sets it). */
  requestsPerSecond?: number;
  /** Longest Retry-After waited for before a request is sent again (the first connection sets it). */
  maxRetryAfterMs?: number;
  recoverAccount?: AccountRecovery;
  /** For one authorization or order to settle. */
  pollTimeoutMs?: number;
}

interface Response<T> {
  status: number;
  body: T;
  location: string | undefined;
  retryAfterMs: number | undefined;
  /** The `Link` header(s), as the HTTP client gives them. */
  link: unknown;
}

let policyApplied = false;

/** Loads acme-client (≈200 ms of imports, so only commands that talk to a CA do this) and connects. */
export async function connectAcme(options: ConnectOptions): Promise<AcmeClient> {
  const acme = await import('acme-client');
  if (!policyApplied) {
    applyHttpPolicy(acme.axios, {
      caFile: options.caFile,
      timeoutMs: options.requestTimeoutMs ?? 30_000,
      requestsPerSecond: options.requestsPerSecond ?? DEFAULT_REQUESTS_PER_SECOND,
      maxRetryAfterMs: options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_SECONDS * 1000,
    });
    acme.axios.defaults.headers.common['User-Agent'] = 'certman';
    policyApplied = true;
  }
  const client = new acme.Client({
    directoryUrl: options.server,
    accountKey: options.accountKeyPem,
    ...(options.accountUrl === undefined ? {} : { accountUrl: options.accountUrl }),
    ...(options.eab === undefined ? {} : { externalAccountBinding: options.eab }),
  });
  const http = (client as unknown as { http: SigningHttp }).http;
  http.maxBadNonceRetries = BAD_NONCE_RETRIES;
  return new AcmeClient(http, options.server, options.accountUrl, options.pollTimeoutMs ?? 120_000, options.recoverAccount);
}

export class AcmeClient {
  /** Replay-Nonces from earlier answers (RFC 8555 §7.2): each saves a newNonce round trip, also between concurrent orders. */
  private readonly nonces: string[] = [];
  /** Set by a rateLimited answer: nothing more is sent to this CA account before its time. */
  private pause: RateLimitPause | undefined;
  /** The one recovery of a lost account, shared by every request that finds it lost. */
  private recovery: { lostUrl: string; url: Promise<string> } | undefined;

  constructor(
    private readonly http: SigningHttp,
    readonly server: string,
    private accountUrl: string | undefined,
    private readonly pollTimeoutMs: number,
    private readonly recoverAccount?: AccountRecovery,
  ) {}

  /** The account URL requests are signed as (it changes when a lost account is registered again). */
  get account(): string | undefined {
    return this.accountUrl;
  }

  async meta(): Promise<DirectoryMeta> {
    return (await this.http.getDirectory()).meta ?? {};
  }

  /** Creates the account, or finds the existing one for this key (RFC 8555 §7.3: 200 instead of 201). */
  async newAccount(input: { email?: string; agreeTos: boolean; eab: boolean }): Promise<Account & { created: boolean }> {
    const url = await this.http.getResourceUrl('newAccount');
    const payload = {
      termsOfServiceAgreed: input.agreeTos,
      ...(input.email === undefined ? {} : { contact: [`mailto:${input.email}`] }),
    };
    const res = await this.post<Account>(url, payload, { jwk: true, eab: input.eab });
    if (res.location === undefined) throw new CertmanError('the CA did not return an account URL');
    this.accountUrl = res.location;
    return { ...res.body, url: res.location, created: res.status === 201 };
  }

  /** Replaces the account's contact (RFC 8555 §7.3.2); without an email the contact becomes empty. */
  async updateContact(email: string | undefined): Promise<Account> {
    const url = this.requireAccount();
    const res = await this.post<Account>(url, { contact: email === undefined ? [] : [`mailto:${email}`] });
    return { ...res.body, url };
  }

  /** The account as the CA holds it (POST-as-GET, RFC 8555 §6.3). */
  async fetchAccount(): Promise<Account> {
    const url = this.requireAccount();
    return { ...(await this.post<Account>(url, null)).body, url };
  }

  /**
   * The URL of the account this client's key belongs to at the CA, or undefined when the CA knows no account
   * with it (newAccount with onlyReturnExisting, RFC 8555 §7.3.1: creates nothing).
   */
  async accountOfKey(): Promise<string | undefined> {
    const url = await this.http.getResourceUrl('newAccount');
    try {
      const res = await this.post<Account>(url, { onlyReturnExisting: true }, { jwk: true });
      return res.location;
    } catch (err) {
      if (err instanceof AcmeProblemError && err.type === ACCOUNT_DOES_NOT_EXIST) return undefined;
      throw err;
    }
  }

  /**
   * Rolls the account over to a new key (RFC 8555 §7.3.5): `innerJws` is the keyChange object signed by the new
   * key, built by the caller for the URL given; the request around it is signed by the current key.
   */
  async changeKey(innerJws: (keyChangeUrl: string, accountUrl: string) => object): Promise<void> {
    const url = await this.http.getResourceUrl('keyChange');
    await this.post(url, innerJws(url, this.requireAccount()));
  }

  /** Deactivates the account for good (RFC 8555 §7.3.6): the CA accepts nothing signed by it afterwards. */
  async deactivateAccount(): Promise<Account> {
    const url = this.requireAccount();
    return { ...(await this.post<Account>(url, { status: 'deactivated' })).body, url };
  }

  /**
   * `replaces` (RFC 9773 §5) names the ARI certificate id of the certificate this order renews. When the CA
   * says that certificate was already replaced (409 alreadyReplaced), the order is sent once more without it.
   * `profile` is one of the directory's meta.profiles (draft-ietf-acme-profiles); IP addresses are `ip`
   * identifiers (RFC 8738 §3).
   */
  async newOrder(domains: string[], options: { replaces?: string; profile?: string } = {}): Promise<Order> {
    const url = await this.http.getResourceUrl('newOrder');
    const order = { identifiers: domains.map(acmeIdentifier), ...(options.profile === undefined ? {} : { profile: options.profile }) };
    let res: Response<Order>;
    try {
      res = await this.post<Order>(url, { ...order, ...(options.replaces === undefined ? {} : { replaces: options.replaces }) });
    } catch (err) {
      if (options.replaces === undefined || !(err instanceof AcmeProblemError) || err.type !== ALREADY_REPLACED) throw err;
      res = await this.post<Order>(url, order);
    }
    if (res.location === undefined) throw new CertmanError('the CA did not return an order URL');
    return { ...res.body, url: res.location };
  }

  /** The directory's `renewalInfo` URL (RFC 9773 §3), undefined when the CA does not offer ARI. */
  async renewalInfoUrl(): Promise<string | undefined> {
    const value = (await this.http.getDirectory()).renewalInfo;
    return typeof value === 'string' && value !== '' ? value : undefined;
  }

  /** The CA's suggested renewal window for one certificate: an unauthenticated GET (RFC 9773 §4.2). */
  async getRenewalInfo(certId: string): Promise<RenewalInfo> {
    const base = await this.renewalInfoUrl();
    if (base === undefined) throw new CertmanError(`the ACME server ${this.server} does not offer renewal information (ARI)`);
    const url = renewalInfoRequestUrl(base, certId);
    const res = await this.http.request(url, 'get');
    if (res.status >= 400) throw problemOf(res, url);
    if (res.status !== 200) throw new CertmanError(`unexpected HTTP ${res.status} for renewal information from ${url}`);
    return parseRenewalInfo(res.data, retryAfterMs(res.headers['retry-after']), url);
  }

  async authorization(url: string): Promise<Authorization> {
    return { ...(await this.post<Authorization>(url, null)).body, url };
  }

  /** Tells the CA the challenge is ready to be validated (RFC 8555 §7.5.1). */
  async answerChallenge(url: string): Promise<void> {
    await this.post(url, {});
  }

  /** Gives up an authorization we will not complete, so it does not linger (RFC 8555 §7.5.2). */
  async deactivateAuthorization(url: string): Promise<void> {
    await this.post(url, { status: 'deactivated' });
  }

  /** Polls until the CA has decided; `signal` ends the wait between two polls (with its reason). */
  async waitForAuthorization(url: string, name: string, signal?: AbortSignal): Promise<Authorization> {
    const body = await pollUntil(
      async () => {
        const res = await this.post<Authorization>(url, null);
        return { body: res.body, retryAfterMs: res.retryAfterMs };
      },
      (authz) => authz.status !== 'pending',
      { what: `validation of ${name}`, timeoutMs: this.pollTimeoutMs, ...(signal === undefined ? {} : { signal }) },
    );
    return { ...body, url };
  }

  async finalize(order: Order, csrDer: Buffer): Promise<Order> {
    try {
      const res = await this.post<Order>(order.finalize, { csr: csrDer.toString('base64url') });
      return { ...res.body, url: order.url };
    } catch (err) {
      // A finalize the CA carried out but whose answer was lost is refused when sent again: the order tells.
      if (!(err instanceof AcmeProblemError) || err.type !== ORDER_NOT_READY) throw err;
      const current = (await this.post<Order>(order.url, null)).body;
      if (current.status !== 'processing' && current.status !== 'valid') throw err;
      return { ...current, url: order.url };
    }
  }

  async waitForOrder(order: Order, signal?: AbortSignal): Promise<Order> {
    const body = await pollUntil(
      async () => {
        const res = await this.post<Order>(order.url, null);
        return { body: res.body, retryAfterMs: res.retryAfterMs };
      },
      (o) => o.status !== 'processing' && o.status !== 'ready' && o.status !== 'pending',
      { what: 'certificate to be issued', timeoutMs: this.pollTimeoutMs, ...(signal === undefined ? {} : { signal }) },
    );
    return { ...body, url: order.url };
  }

  /** The PEM chain (leaf first) of an issued order, or one of its alternates. */
  async downloadCertificate(url: string): Promise<string> {
    return (await this.downloadPem(url)).pem;
  }

  /**
   * The default chain of an issued order and the alternates its `Link: rel="alternate"` headers name (RFC 8555
   * §7.4.2), in the CA's order, not downloaded; links elsewhere than https on the certificate URL's origin are
   * refused (see linksOf).
   */
  async downloadCertificateWithAlternates(url: string): Promise<{ pem: string } & Links> {
    const { pem, link } = await this.downloadPem(url);
    return { pem, ...linksOf(link, 'alternate', url) };
  }

  private async downloadPem(url: string): Promise<{ pem: string; link: unknown }> {
    const res = await this.post<unknown>(url, null);
    if (typeof res.body !== 'string') throw new CertmanError('the CA returned a certificate that is not PEM text');
    return { pem: res.body, link: res.link };
  }

  async revoke(certDer: Buffer, reason: RevocationReason): Promise<void> {
    const url = await this.http.getResourceUrl('revokeCert');
    await this.post(url, { certificate: certDer.toString('base64url'), reason: REVOCATION_REASONS[reason] });
  }

  private requireAccount(): string {
    if (this.accountUrl === undefined) throw new CertmanError('no ACME account is loaded');
    return this.accountUrl;
  }

  /** Every signed request: refused here while rate-limited; sent again as the new account when the CA lost ours. */
  private async post<T>(url: string, payload: object | null, options: { jwk?: boolean; eab?: boolean } = {}): Promise<Response<T>> {
    const kid = options.jwk === true ? null : this.requireAccount();
    try {
      return await this.send<T>(url, payload, kid, options.eab === true);
    } catch (err) {
      const recover = this.recoverAccount;
      if (kid === null || recover === undefined || !(err instanceof AcmeProblemError) || err.type !== ACCOUNT_DOES_NOT_EXIST) throw err;
      return this.send<T>(url, payload, await this.recover(kid, recover), false);
    }
  }

  /** The URL to sign as instead of `lostUrl`: found once, whatever the number of requests that ask. */
  private recover(lostUrl: string, recover: AccountRecovery): Promise<string> {
    // Another request already replaced the lost account.
    if (this.accountUrl !== lostUrl) return Promise.resolve(this.requireAccount());
    if (this.recovery?.lostUrl !== lostUrl) {
      const url = recover(this, lostUrl).then((found) => {
        this.accountUrl = found;
        return found;
      });
      this.recovery = { lostUrl, url };
    }
    return this.recovery.url;
  }

  private async send<T>(url: string, payload: object | null, kid: string | null, eab: boolean): Promise<Response<T>> {
    if (this.pause !== undefined && this.pause.until.getTime() > Date.now()) throw this.pause;
    const nonce = this.nonces.pop();
    const res = await this.http.signedRequest(url, payload, { kid, nonce: nonce ?? null, includeExternalAccountBinding: eab });
    const replayNonce = res.headers['replay-nonce'];
    if (typeof replayNonce === 'string') this.nonces.push(replayNonce);
    if (res.status >= 400) {
      const problem = problemOf(res, url);
      if (isRateLimited(problem)) this.pause = new RateLimitPause(this.server, kid ?? 'being registered', rateLimitedUntil(problem, new Date()), problem.detail);
      throw problem;
    }
    const location = res.headers.location;
    return {
      status: res.status,
      body: res.data as T,
      location: typeof location === 'string' ? location : undefined,
      retryAfterMs: retryAfterMs(res.headers['retry-after']),
      link: res.headers.link,
    };
  }
}

function problemOf(res: AxiosResponse, url: string): AcmeProblemError {
  const wait = retryAfterMs(res.headers['retry-after']);
  return problemError(res.data, res.status, `HTTP ${res.status} from ${url}`, wait === undefined ? undefined : retryAfterTime(wait, Date.now()));
}

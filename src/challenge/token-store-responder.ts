import { assertSafeToken } from './token.js';
import type { TokenStore } from '../store/types.js';
import { DEFAULT_TOKEN_TTL_MS } from './token-store.js';
import type { Http01Responder } from './types.js';

/**
 * Publishes tokens to a token store for a running `certman serve-challenge` to answer: no port is
 * opened and no web-server folder is touched by the run itself.
 */
export class TokenStoreResponder implements Http01Responder {
  private readonly published = new Set<string>();

  constructor(
    private readonly store: TokenStore,
    private readonly ttlMs: number = DEFAULT_TOKEN_TTL_MS,
  ) {}

  async publish(domain: string, token: string, keyAuthorization: string): Promise<void> {
    assertSafeToken(token);
    await this.store.put(token, keyAuthorization, domain, this.ttlMs);
    this.published.add(token);
  }

  async unpublish(token: string): Promise<void> {
    this.published.delete(token);
    await this.store.delete(token);
  }

  async close(): Promise<void> {
    const left = [...this.published];
    this.published.clear();
    await Promise.all(left.map((token) => this.store.delete(token)));
  }
}

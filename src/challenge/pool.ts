import type { ChallengeMethod } from '../lineage/types.js';
import type { TokenStore } from '../store/types.js';
import { StandaloneResponder } from './standalone.js';
import type { Http01Responder } from './types.js';
import { WebrootResponder } from './webroot.js';
import { webrootFor } from './webroot-map.js';
import { CertmanError } from '../errors.js';

export interface ResponderPoolOptions {
  /** The store's token store, which `{ kind: 'responder' }` publishes to (serve-challenge reads it). */
  tokens?: TokenStore;
  /**
   * Holds a port against other certman runs on this host while a standalone server of this run uses it: runs
   * working on different certificates at once take turns on port 80 instead of failing with "in use".
   */
  portLock?: (port: number) => Promise<{ release(): Promise<void> }>;
}

interface Entry {
  responder: Promise<Http01Responder>;
  users: number;
}

/**
 * Shares responders between orders that run at the same time: concurrent renewals on one
 * standalone port need one server, and on one webroot one owner of the folders it creates.
 * Each `acquire` is a lease; the responder closes when its last lease does.
 */
export class ResponderPool {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: ResponderPoolOptions = {}) {}

  async acquire(method: ChallengeMethod): Promise<Http01Responder> {
    if (method.kind === 'webroot' && method.webroots !== undefined) return this.acquireWebroots(method);
    const key = poolKey(method);
    let entry = this.entries.get(key);
    if (entry === undefined) {
      const created: Entry = { responder: open(method, this.options), users: 0 };
      this.entries.set(key, created);
      // A responder that failed to open (busy port) must not be handed to the next order.
      created.responder.catch(() => this.entries.delete(key));
      entry = created;
    }
    entry.users += 1;
    const shared = await entry.responder.catch((err: unknown) => {
      (entry as Entry).users -= 1;
      throw err;
    });
    return this.lease(key, entry, shared);
  }

  /** Several webroots in one order: one pooled responder per folder, each token published where its name's folder is. */
  private async acquireWebroots(method: Extract<ChallengeMethod, { kind: 'webroot' }>): Promise<Http01Responder> {
    const opened = new Map<string, Http01Responder>();
    try {
      for (const dir of new Set([method.webroot, ...Object.values(method.webroots ?? {})])) opened.set(dir, await this.acquire({ kind: 'webroot', webroot: dir }));
    } catch (err) {
      await Promise.all([...opened.values()].map((responder) => responder.close()));
      throw err;
    }
    const byToken = new Map<string, Http01Responder>();
    return {
      publish: async (domain, token, keyAuthorization) => {
        const responder = opened.get(webrootFor(method, domain)) as Http01Responder;
        byToken.set(token, responder);
        await responder.publish(domain, token, keyAuthorization);
      },
      unpublish: async (token) => {
        const responder = byToken.get(token);
        byToken.delete(token);
        await responder?.unpublish(token);
      },
      close: async () => {
        await Promise.all([...opened.values()].map((responder) => responder.close()));
      },
    };
  }

  private lease(key: string, entry: Entry, shared: Http01Responder): Http01Responder {
    const mine = new Set<string>();
    let closed = false;
    return {
      publish: async (domain, token, keyAuthorization) => {
        mine.add(token);
        await shared.publish(domain, token, keyAuthorization);
      },
      unpublish: async (token) => {
        mine.delete(token);
        await shared.unpublish(token);
      },
      close: async () => {
        if (closed) return;
        closed = true;
        await Promise.all([...mine].map((token) => shared.unpublish(token)));
        entry.users -= 1;
        if (entry.users === 0 && this.entries.get(key) === entry) {
          this.entries.delete(key);
          await shared.close();
        }
      },
    };
  }
}

function poolKey(method: ChallengeMethod): string {
  switch (method.kind) {
    case 'webroot':
      return `webroot:${method.webroot}`;
    case 'standalone':
      return `standalone:${method.address ?? '*'}:${method.port}`;
    case 'responder':
      return 'responder';
  }
}

async function open(method: ChallengeMethod, options: ResponderPoolOptions): Promise<Http01Responder> {
  switch (method.kind) {
    case 'webroot':
      return WebrootResponder.open(method.webroot);
    case 'standalone': {
      const held = await options.portLock?.(method.port);
      try {
        const server = await StandaloneResponder.open({ port: method.port, ...(method.address === undefined ? {} : { address: method.address }) });
        if (held === undefined) return server;
        return {
          publish: (domain, token, keyAuthorization) => server.publish(domain, token, keyAuthorization),
          unpublish: (token) => server.unpublish(token),
          close: async () => {
            try {
              await server.close();
            } finally {
              await held.release();
            }
          },
        };
      } catch (err) {
        await held?.release();
        throw err;
      }
    }
    case 'responder': {
      if (options.tokens === undefined) {
        throw new CertmanError('the responder method needs the store\'s token store, and none was given', {
          hint: 'this is a bug in certman: the ResponderPool was created without { tokens }',
        });
      }
      const { TokenStoreResponder } = await import('./token-store-responder.js');
      return new TokenStoreResponder(options.tokens);
    }
  }
}

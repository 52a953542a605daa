import type { ChallengeMethod } from '../store/types.js';
import { StandaloneResponder } from './standalone.js';
import type { Http01Responder } from './types.js';
import { WebrootResponder } from './webroot.js';

export type { Http01Responder } from './types.js';

/** Opens the responder a certificate's method asks for (binds ports, checks folders) before any order. */
export function openResponder(method: ChallengeMethod): Promise<Http01Responder> {
  switch (method.kind) {
    case 'webroot':
      return WebrootResponder.open(method.webroot);
    case 'standalone':
      return StandaloneResponder.open({ port: method.port, ...(method.address === undefined ? {} : { address: method.address }) });
  }
}

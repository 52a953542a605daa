export { ResponderPool } from './pool.js';
export type { Http01Responder } from './types.js';

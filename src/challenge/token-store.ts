/**
 * Tokens published for a running `serve-challenge` go to the store's TokenStore (src/store/types.ts):
 * on one machine the config dir, in a fleet the shared store.
 */

/** How long a published token stays pending when nobody withdraws it (a killed run). */
export const DEFAULT_TOKEN_TTL_MS = 10 * 60_000;

/**
 * certbot-compatible hooks: running a hook command and the environment each kind of hook receives.
 */
export { DEFAULT_HOOK_TIMEOUT_MS, HOOK_OUTPUT_LIMIT, runHook, type HookOutcome, type RunHookOptions } from './run.js';
export { deployHookEnv, postHookEnv } from './env.js';

import type { HookOutcome } from './run.js';

/** One line for a hook that did not succeed: how it ended, never "null". */
export function hookFailureMessage(kind: string, outcome: HookOutcome): string {
  const how = outcome.exitCode !== null ? `exit ${outcome.exitCode}` : outcome.signal !== null ? `killed by ${outcome.signal}` : 'could not start';
  return `${kind} hook ${JSON.stringify(outcome.command)} failed (${how})`;
}

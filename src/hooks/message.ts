import type { HookOutcome } from './run.js';

/** One line for a hook that did not succeed: how it ended, never "null". Kept apart from run.ts so command files can format without loading child_process. */
export function hookFailureMessage(kind: string, outcome: HookOutcome): string {
  const how = outcome.exitCode !== null ? `exit ${outcome.exitCode}` : outcome.signal !== null ? `killed by ${outcome.signal}` : 'could not start';
  return `${kind} hook ${JSON.stringify(outcome.command)} failed (${how})`;
}

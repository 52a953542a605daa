import assert from 'node:assert/strict';
import { UsageError } from '../../src/errors.js';

/** Asserts fn throws a one-line UsageError (exit code 2) whose message matches, and returns it. */
export function usageError(fn: () => unknown, message: RegExp | string): UsageError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof UsageError, `expected a UsageError, got ${String(caught)}`);
  assert.equal(caught.exitCode, 2);
  if (typeof message === 'string') assert.equal(caught.message, message);
  else assert.match(caught.message, message);
  assert.ok(!caught.message.includes('\n'), `message should be one line: ${JSON.stringify(caught.message)}`);
  return caught;
}

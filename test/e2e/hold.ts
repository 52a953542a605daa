// Holding a run at a known point from a test: a pre-hook that runs while its run holds a certificate's lease.
import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../harness/index.js';

/**
 * A pre-hook that says it runs (creates $STARTED) and then holds its run, which holds the certificate's lease,
 * until the test creates $GO (or a minute passed: a stuck test must not hang CI).
 */
export const HOLD = 'touch "$STARTED"; i=0; until [ -e "$GO" ] || [ $i -ge 1200 ]; do sleep 0.05; i=$((i+1)); done';

/**
 * A pre-hook that waits until `runs` runs have reached their pre-hooks (each leaves a file in $MARKS): each
 * run holds the leases it took meanwhile, and none renews before all have listed what they will renew. Fails
 * (exit 9) after a minute, so a stuck test does not hang CI.
 */
export function meetHook(runs: number): string {
  return `touch "$MARKS/$$"; i=0; until [ "$(ls "$MARKS" | wc -l)" -ge ${runs} ]; do [ $i -ge 1200 ] && exit 9; sleep 0.05; i=$((i+1)); done`;
}

/** Files the HOLD hook and the test share. */
export async function holdFiles(): Promise<{ started: string; go: string; env: Record<string, string> }> {
  const dir = await tempDir('hold');
  const started = join(dir, 'started');
  const go = join(dir, 'go');
  return { started, go, env: { STARTED: started, GO: go } };
}

/** Polls `ready` (generous: the machine is loaded), failing after `timeoutMs` (default a minute). */
export async function waitUntil(ready: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Polls until `file` exists. */
export function waitForFile(file: string, what: string): Promise<void> {
  return waitUntil(() => existsSync(file), what);
}

/** Calls `action` once the child's stderr has shown `text`. */
export function onStderr(child: ChildProcessWithoutNullStreams, text: string, action: () => void): void {
  let seen = '';
  const watch = (chunk: string) => {
    seen += chunk;
    if (!seen.includes(text)) return;
    child.stderr.off('data', watch);
    action();
  };
  child.stderr.on('data', watch);
}

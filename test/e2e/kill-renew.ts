// `renew --force` killed with SIGKILL at moments spread over its run: after every kill live/ is complete and
// matching, the store lists every certificate, and the next renew repairs what was left and finishes.
// crash-kill-1.test.ts and crash-kill-2.test.ts make 50 kills each (100 in all), each file with its own Pebble,
// so that each stays well inside the test runner's time limit per file and the two can run side by side.
import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { assertStoreSound, storeProblems } from '../harness/index.js';
import { pebbleSuite } from './fixture.js';
import { RENEW, storeRuns } from './store-runs.js';

/** Certificates renewed by each run. */
const COUNT = 3;
const KILLS_PER_TEST = 10;

/** When to kill: `ms` after the start, or `ms` after the `nth` stderr line containing `line`. */
type KillPlan = { ms: number } | { line: string; nth: number; ms: number };

function describePlan(plan: KillPlan): string {
  return 'line' in plan ? `${plan.ms.toFixed(0)} ms after "${plan.line}" #${plan.nth}` : `at ${plan.ms.toFixed(0)} ms`;
}

function killAt(child: ChildProcessWithoutNullStreams, plan: KillPlan): void {
  const kill = () => setTimeout(() => child.kill('SIGKILL'), plan.ms);
  if (!('line' in plan)) {
    kill();
    return;
  }
  let seen = 0;
  let partial = '';
  const watch = (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    seen += lines.filter((l) => l.includes(plan.line)).length;
    if (seen < plan.nth) return;
    child.stderr.off('data', watch);
    kill();
  };
  child.stderr.on('data', watch);
}

const random = (max: number) => Math.random() * max;

/** Kills numbered `first` to `first + kills - 1` (of 100), against a Pebble of this file's own. */
export function killRenewSuite(first: number, kills: number): void {
  const suite = pebbleSuite();
  const { run, assertListed, renewAll } = storeRuns(suite);
  const last = first + kills - 1;

  describe(`renew --force killed with SIGKILL: kills ${first}-${last} of 100`, () => {
    let dir = '';
    let names: string[] = [];
    let runMs = 0;
    let done = 0;
    /** What was found after the kills, for the report: a journal (a switch cut short), a dead run's lease file. */
    const left = { journal: 0, lock: 0, keyed: 0 };

    before(async () => {
      ({ dir, names } = await suite.issued(COUNT, 'kill'));
      // One run to measure: kill times spread over the whole of one (and a bit past, for a slower run).
      runMs = (await renewAll(dir, names)).durationMs;
    });

    /** Mostly a uniform moment over the run; one in four keyed to a progress line, just before or after a save. */
    function plan(): KillPlan {
      if (Math.random() >= 0.25) return { ms: random(runMs * 1.15) };
      const nth = 1 + Math.floor(random(COUNT));
      return Math.random() < 0.5 ? { line: 'downloading the certificate', nth, ms: random(40) } : { line: 'saved ', nth, ms: random(5) };
    }

    async function killRuns(target: number): Promise<void> {
      for (let runs = 0; done < target; runs++) {
        assert.ok(runs < KILLS_PER_TEST * 3, 'too many runs finished before their kill');
        const chosen = plan();
        const r = await run(dir, ['-v', ...RENEW], { onSpawn: (child) => killAt(child, chosen) });
        if (r.signal !== 'SIGKILL') {
          // It finished first: a whole run, which must have succeeded.
          assert.equal(r.code, 0, `a run meant to be killed ${describePlan(chosen)} failed:\n${r.stderr}`);
          await assertStoreSound(dir, { names });
          continue;
        }
        done++;
        const number = first + done - 1;
        if ((await readdir(join(dir, '.pending')).catch(() => [])).length > 0) left.journal++;
        if ((await readdir(join(dir, '.locks')).catch(() => [])).some((file) => file.endsWith('.lock'))) left.lock++;
        if ('line' in chosen) left.keyed++;
        const context = `after kill #${number} (${describePlan(chosen)}); its stderr:\n${r.stderr}`;
        // Files checked as they are, before anything repairs them: live/ complete and matching, every
        // certificate's metadata in place (a journal and the dead run's lock are allowed).
        assert.deepEqual(await storeProblems(dir, { names, afterCrash: true }), [], context);
        // Every tenth kill the next renew runs to the end, five later certman lists the certificates; the
        // other kills are followed by the next killed renew, which must start from what this one left.
        if (number % 10 === 0) await renewAll(dir, names);
        if (number % 10 === 5) await assertListed(dir, names);
      }
    }

    for (let from = 0; from < kills; from += KILLS_PER_TEST) {
      const to = Math.min(from + KILLS_PER_TEST, kills);
      it(`kills ${first + from}-${first + to - 1}: live/ complete and matching after each; listed; the next renew finishes`, async (t) => {
        await killRuns(to);
        t.diagnostic(`${done} kills so far, ${left.keyed} keyed to a progress line; after ${left.lock} a dead run's lease file, after ${left.journal} a journal`);
      });
    }
  });
}

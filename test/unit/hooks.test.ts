import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { deployHookEnv, HOOK_OUTPUT_LIMIT, postHookEnv, runHook } from '../../src/hooks/index.js';

let root: string;

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'certman-hooks-'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Gone, or a zombie nobody reaped yet (containers without an init): either way not running. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function waitUntilStopped(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!running(pid)) return true;
    await sleep(20);
  }
  return !running(pid);
}

describe('runHook', () => {
  test('a succeeding hook: ok, exit 0, output and duration', async () => {
    const outcome = await runHook('echo hello', {});
    assert.equal(outcome.command, 'echo hello');
    assert.equal(outcome.ok, true);
    assert.equal(outcome.exitCode, 0);
    assert.equal(outcome.signal, null);
    assert.equal(outcome.output, 'hello\n');
    assert.ok(outcome.durationMs >= 0 && outcome.durationMs < 5000);
  });

  test('a failing hook is an outcome, not an exception', async () => {
    const outcome = await runHook('echo broken >&2; exit 3', {});
    assert.equal(outcome.ok, false);
    assert.equal(outcome.exitCode, 3);
    assert.equal(outcome.signal, null);
    assert.equal(outcome.output, 'broken\n');
  });

  test('a command the shell cannot find fails with 127 and the shell message', async () => {
    const outcome = await runHook('certman-no-such-command-xyz', {});
    assert.equal(outcome.ok, false);
    assert.equal(outcome.exitCode, 127);
    assert.match(outcome.output, /not found/);
  });

  test('stdout and stderr are interleaved in the order written', async () => {
    const outcome = await runHook('echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three', {});
    assert.equal(outcome.output, 'one\ntwo\nthree\n');
  });

  test('only the last 8 KiB of output are kept', async () => {
    const outcome = await runHook("head -c 20000 /dev/zero | tr '\\0' x; echo END", {});
    assert.equal(outcome.ok, true);
    assert.equal(Buffer.byteLength(outcome.output), HOOK_OUTPUT_LIMIT);
    assert.match(outcome.output, /^x+END\n$/);
  });

  test('a cut through a multi-byte character leaves no broken character', async () => {
    // "é" is 2 bytes; 8191 bytes of "é" pairs + "\n" makes the cut land inside one of them.
    const outcome = await runHook("i=0; while [ $i -lt 5000 ]; do printf 'é'; i=$((i+1)); done; echo", {});
    assert.equal(outcome.ok, true);
    assert.ok(!outcome.output.includes('\uFFFD'));
    assert.match(outcome.output, /^é+\n$/);
  });

  test('gets process.env plus the given variables', async () => {
    process.env.CERTMAN_TEST_INHERITED = 'from-parent';
    try {
      const outcome = await runHook('printf "%s|%s" "$CERTMAN_TEST_INHERITED" "$EXTRA"', { EXTRA: 'given' });
      assert.equal(outcome.output, 'from-parent|given');
    } finally {
      delete process.env.CERTMAN_TEST_INHERITED;
    }
  });

  test('the given variables override inherited ones', async () => {
    process.env.CERTMAN_TEST_OVERRIDE = 'old';
    try {
      const outcome = await runHook('printf %s "$CERTMAN_TEST_OVERRIDE"', { CERTMAN_TEST_OVERRIDE: 'new' });
      assert.equal(outcome.output, 'new');
    } finally {
      delete process.env.CERTMAN_TEST_OVERRIDE;
    }
  });

  test('shell syntax in a domain name stays data: it only reaches the hook through env', async () => {
    const marker = path.join(root, 'pwned');
    const evil = `$(touch ${marker})`;
    const outcome = await runHook('printf "%s" "$RENEWED_DOMAINS"', deployHookEnv('/etc/certman/live/x', [evil, 'b.example']));
    assert.equal(outcome.ok, true);
    assert.equal(outcome.output, `${evil} b.example`);
    assert.deepEqual(
      (await readdir(root)).filter((e) => e === 'pwned'),
      [],
    );
  });

  test('a spawn error is ok=false with the message in output', async () => {
    const outcome = await runHook('true', { BAD: 'a\0b' });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.exitCode, null);
    assert.equal(outcome.signal, null);
    assert.match(outcome.output, /cannot run hook/);
  });

  test('a hook killed by a signal reports it', async () => {
    const outcome = await runHook('kill -TERM $$', {});
    assert.equal(outcome.ok, false);
    assert.equal(outcome.exitCode, null);
    assert.equal(outcome.signal, 'SIGTERM');
  });

  test('a timeout kills the whole process group', async () => {
    const pidFile = path.join(root, 'bg.pid');
    const started = Date.now();
    const outcome = await runHook(`sleep 30 & echo $! > '${pidFile}'; echo waiting; wait`, {}, { timeoutMs: 300 });
    const elapsed = Date.now() - started;
    assert.equal(outcome.ok, false);
    assert.equal(outcome.exitCode, null);
    assert.equal(outcome.signal, 'SIGTERM');
    assert.match(outcome.output, /^waiting\n/);
    assert.match(outcome.output, /timed out after 300 ms/);
    assert.ok(elapsed >= 300 && elapsed < 5000, `took ${elapsed} ms`);
    const bg = Number((await readFile(pidFile, 'utf8')).trim());
    assert.ok(bg > 0);
    assert.ok(await waitUntilStopped(bg, 3000), `background process ${bg} survived the timeout`);
  });

  test('a hook that ignores SIGTERM is killed after the grace period', async () => {
    const outcome = await runHook("trap '' TERM; sleep 20 & wait; sleep 20", {}, { timeoutMs: 200 });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.signal, 'SIGKILL');
    assert.ok(outcome.durationMs < 10_000);
  });

  test('a background process holding the output open does not keep certman waiting', async () => {
    const pidFile = path.join(root, 'daemon.pid');
    const outcome = await runHook(`sleep 20 & echo $! > '${pidFile}'; echo started`, {});
    try {
      assert.equal(outcome.ok, true);
      assert.equal(outcome.output, 'started\n');
      assert.ok(outcome.durationMs < 5000, `took ${outcome.durationMs} ms`);
    } finally {
      const bg = Number((await readFile(pidFile, 'utf8')).trim());
      if (bg > 0) process.kill(bg, 'SIGKILL');
    }
  });

  test('hooks run in parallel independently', async () => {
    const outcomes = await Promise.all([1, 2, 3, 4].map((n) => runHook(`sleep 0.2; echo $N; exit $N`, { N: String(n) })));
    assert.deepEqual(
      outcomes.map((o) => [o.exitCode, o.output]),
      [
        [1, '1\n'],
        [2, '2\n'],
        [3, '3\n'],
        [4, '4\n'],
      ],
    );
  });
});

describe('hook environments', () => {
  test('deploy hook: RENEWED_LINEAGE and space-separated RENEWED_DOMAINS', () => {
    assert.deepEqual(deployHookEnv('/etc/certman/live/example.com', ['example.com', 'www.example.com']), {
      RENEWED_LINEAGE: '/etc/certman/live/example.com',
      RENEWED_DOMAINS: 'example.com www.example.com',
    });
  });

  test('post hook: RENEWED_DOMAINS and FAILED_DOMAINS, empty when none', () => {
    assert.deepEqual(postHookEnv(['a.example', 'b.example'], ['c.example']), {
      RENEWED_DOMAINS: 'a.example b.example',
      FAILED_DOMAINS: 'c.example',
    });
    assert.deepEqual(postHookEnv([], []), { RENEWED_DOMAINS: '', FAILED_DOMAINS: '' });
  });

  test('a deploy hook sees its variables', async () => {
    const outcome = await runHook(
      'printf "%s\\n%s\\n" "$RENEWED_LINEAGE" "$RENEWED_DOMAINS"',
      deployHookEnv('/srv/live/example.com', ['example.com', 'xn--bcher-kva.example']),
    );
    assert.equal(outcome.output, '/srv/live/example.com\nexample.com xn--bcher-kva.example\n');
  });
});

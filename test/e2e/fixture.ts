// Shared set-up for end-to-end suites: one Pebble per suite, a fresh config dir per test.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, beforeEach } from 'node:test';
import { certmanEnv, runCli, startFaultProxy, startPebble, tempDir, uniqueName, type FaultProxy, type PebbleEnv, type PebbleOptions, type RunResult } from '../harness/index.js';

export interface Suite {
  pebble: PebbleEnv;
  /** Runs certman against this suite's Pebble with `configDir` as its state. */
  certman(configDir: string, args: string[], env?: Record<string, string | undefined>): Promise<RunResult>;
  /** A config dir with a registered account. */
  registeredDir(): Promise<string>;
  /**
   * Replaces the config dir's account with a new one, which holds no valid authorization yet. Pebble
   * reuses an account's valid authorization 1% of the time even with PEBBLE_AUTHZREUSE=0 (it creates a
   * new one only when rand.Intn(100) > 0), so a test that needs the next order to be validated (and to
   * fail) renews with a fresh account.
   */
  freshAccount(configDir: string): Promise<void>;
  /** A registered config dir holding `count` certificates issued through the built-in server. */
  issued(count: number, label: string, extra?: string[]): Promise<{ dir: string; names: string[] }>;
  /** Flags for the built-in server on the port Pebble validates. */
  standalone(): string[];
}

export function pebbleSuite(options: PebbleOptions = {}): Suite {
  const suite = {} as Suite;
  before(async () => {
    const pebble = await startPebble(options);
    suite.pebble = pebble;
    suite.certman = (configDir, args, env = {}) => runCli(args, { env: { ...certmanEnv(pebble, configDir), ...env } });
    suite.standalone = () => ['--standalone', '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1'];
    suite.registeredDir = async () => {
      const dir = await tempDir('cfg');
      const r = await suite.certman(dir, ['register', '--email', 'ops@example.com', '--agree-tos']);
      if (r.code !== 0) throw new Error(`register failed: ${r.stderr}`);
      return dir;
    };
    suite.issued = async (count, label, extra = []) => {
      const dir = await suite.registeredDir();
      const names = Array.from({ length: count }, (_, i) => uniqueName(`${label}${i}`));
      for (const name of names) {
        const r = await suite.certman(dir, ['issue', '-d', name, ...suite.standalone(), ...extra]);
        if (r.code !== 0) throw new Error(`issue ${name} failed: ${r.stderr}`);
      }
      return { dir, names };
    };
    suite.freshAccount = async (dir) => {
      await rm(join(dir, 'accounts'), { recursive: true, force: true });
      const r = await suite.certman(dir, ['register', '--email', 'ops@example.com', '--agree-tos']);
      if (r.code !== 0) throw new Error(`register failed: ${r.stderr}`);
    };
  });
  after(async () => {
    await suite.pebble?.stop();
  });
  return suite;
}

/**
 * One fault-injecting proxy in front of the suite's Pebble (test/harness/faults.ts), started by the calling
 * describe and stopped after it; the returned function gives it to the tests.
 */
export function withFaultProxy(suite: Suite): () => FaultProxy {
  let proxy: FaultProxy | undefined;
  before(async () => {
    proxy = await startFaultProxy(suite.pebble);
  });
  after(async () => {
    await proxy?.stop();
  });
  return () => {
    assert.ok(proxy !== undefined, 'the fault proxy starts in the describe\'s before hook');
    return proxy;
  };
}

/**
 * Two fault-injecting proxies in front of the suite's Pebble (test/harness/faults.ts): each has its own URLs, so
 * certman sees two CAs. Started by the calling describe (after the fixture's root-level hook has started Pebble),
 * handed to `use`, cleared before each test, stopped after the describe.
 */
export function withFaultyCas(suite: Suite, use: (proxy: FaultProxy, other: FaultProxy) => void): void {
  let cas: FaultProxy[] = [];
  before(async () => {
    cas = await Promise.all([startFaultProxy(suite.pebble), startFaultProxy(suite.pebble)]);
    use(cas[0] as FaultProxy, cas[1] as FaultProxy);
  });
  after(async () => {
    await Promise.all(cas.map((ca) => ca.stop()));
  });
  beforeEach(() => {
    for (const ca of cas) ca.clear();
  });
}

/** Parses --json stdout, failing with the whole output when it is not JSON. */
export function json<T = Record<string, unknown>>(r: RunResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
  }
}

/**
 * A failure as certman promises it: exit `code`, stderr `error: <message>` on one line (a `hint:` line
 * may follow), no stack trace, nothing on stdout.
 */
export function assertOneLineError(r: RunResult, code: number, message: RegExp, label = ''): void {
  const context = `${label} (exit ${r.code})\n${r.stderr}`;
  assert.equal(r.code, code, context);
  const lines = r.stderr.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^error: /, context);
  assert.match(lines[0] ?? '', message, context);
  assert.ok(lines.length === 1 || (lines.length === 2 && lines[1]?.startsWith('hint: ') === true), `more than an error and a hint: ${context}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, `stack trace: ${context}`);
  assert.equal(r.stdout, '', `stdout: ${label}`);
}

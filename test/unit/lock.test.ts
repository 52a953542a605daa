import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';

import { CertmanError, ExitCode, LockedError } from '../../src/errors.js';
import { openStore } from '../../src/store/index.js';
import { TEMP_PREFIX } from '../../src/store/fs/atomic.js';
import { hostTag, processStartTime } from '../../src/store/fs/host.js';
import { acquireFileLock, LEGACY_LOCK_HOLD_MS, lockFilePath, LOCKS_DIR, type LockHolder } from '../../src/store/fs/lock.js';

const LOCK_MODULE = pathToFileURL(path.resolve('src/store/fs/lock.ts')).href;

let root: string;
let counter = 0;
const children = new Set<ChildProcess>();

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'certman-lock-'));
});

after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
});

async function configDir(): Promise<string> {
  counter += 1;
  const dir = path.join(root, `config-${counter}`);
  await mkdir(dir);
  return dir;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Pid of a process that has run and exited (so nothing runs under it). */
async function deadPid(): Promise<number> {
  const child = spawn('true', { stdio: 'ignore' });
  await exited(child);
  assert.ok(child.pid !== undefined);
  return child.pid;
}

/** A live process that is not certman: `sleep`. */
function liveProcess(): ChildProcess {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function writeLock(dir: string, name: string, holder: Partial<LockHolder> | string): Promise<string> {
  const file = lockFilePath(dir, name);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, typeof holder === 'string' ? holder : JSON.stringify(holder));
  return file;
}

/** Polls `check` every 20 ms until it is true (fails after 10 s). */
async function waitFor(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s');
    await sleep(20);
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Runs `command` as if on another host: in a UTS namespace of its own (a user namespace too unless root). */
function onOtherHost(hostname: string, command: string[]): string[] {
  const namespaces = process.getuid?.() === 0 ? ['--uts'] : ['--user', '--map-root-user', '--uts'];
  return ['unshare', ...namespaces, 'sh', '-c', 'hostname "$0" && exec "$@"', hostname, ...command];
}

interface ChildOptions {
  /** Run on "another host": this hostname, in a namespace of its own. */
  hostname?: string;
  leaseMs?: number;
}

/**
 * A separate node process running the real lock code. It prints "ready", and on each command line:
 * "take" → tries lock(name, {wait:false}) and prints "acquired" or "locked <message>";
 * "release" → releases and prints "released"; "exit" → process.exit(0) (no release());
 * stdin closed → exits too.
 */
class LockChild {
  readonly process: ChildProcess;
  private readonly lines: string[] = [];
  private waiters: ((line: string) => void)[] = [];

  constructor(dir: string, name: string, options: ChildOptions = {}) {
    const script = `
      const { acquireFileLock } = await import(${JSON.stringify(LOCK_MODULE)});
      const readline = await import('node:readline');
      let lock;
      const rl = readline.createInterface({ input: process.stdin });
      rl.on('line', async (cmd) => {
        if (cmd === 'take') {
          try {
            lock = await acquireFileLock(${JSON.stringify(dir)}, ${JSON.stringify(name)}, ${JSON.stringify({ wait: false, leaseMs: options.leaseMs })});
            console.log('acquired');
          } catch (err) {
            console.log('locked ' + err.name + ' ' + err.message);
          }
        } else if (cmd === 'release') {
          await lock.release();
          console.log('released');
        } else if (cmd === 'exit') {
          process.exit(0);
        }
      });
      rl.on('close', () => process.exit(0));
      console.log('ready');
    `;
    const node = [process.execPath, '--import', 'tsx', '--input-type=module', '-e', script];
    const [command = '', ...args] = options.hostname === undefined ? node : onOtherHost(options.hostname, node);
    this.process = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    children.add(this.process);
    this.process.once('exit', () => children.delete(this.process));
    createInterface({ input: this.process.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const waiter = this.waiters.shift();
      if (waiter) waiter(line);
      else this.lines.push(line);
    });
  }

  get pid(): number {
    assert.ok(this.process.pid !== undefined);
    return this.process.pid;
  }

  next(): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('child did not answer')), 20_000);
      this.waiters.push((l) => {
        clearTimeout(timer);
        resolve(l);
      });
    });
  }

  send(command: string): void {
    this.process.stdin?.write(`${command}\n`);
  }

  async ask(command: string): Promise<string> {
    this.send(command);
    return this.next();
  }
}

describe('file lock', () => {
  test('acquire writes the holder into .locks/<name>.lock (folder 0700); release removes it', async () => {
    const dir = await configDir();
    const lock = await acquireFileLock(dir, 'renew', { wait: false });
    const file = lockFilePath(dir, 'renew');
    assert.equal(file, path.join(dir, LOCKS_DIR, 'renew.lock'));
    assert.equal((await stat(path.join(dir, LOCKS_DIR))).mode & 0o777, 0o700);
    const holder = JSON.parse(await readFile(file, 'utf8')) as LockHolder;
    assert.equal(holder.pid, process.pid);
    assert.equal(holder.hostname, os.hostname());
    assert.ok(!Number.isNaN(Date.parse(holder.startedAt)));
    const start = processStartTime(process.pid);
    if (start !== undefined) assert.equal(holder.processStart, start);
    await lock.release();
    assert.equal(await exists(file), false);
    assert.deepEqual(await readdir(path.join(dir, LOCKS_DIR)), []);
    await lock.release(); // idempotent
  });

  test('a name this process already holds counts as held (no re-entrance)', async () => {
    const dir = await configDir();
    const lock = await acquireFileLock(dir, 'renew', { wait: false });
    try {
      await assert.rejects(acquireFileLock(dir, 'renew', { wait: false }), (err: unknown) => {
        assert.ok(err instanceof LockedError);
        assert.equal(err.exitCode, ExitCode.LOCKED);
        assert.equal(
          err.message,
          `another certman run (pid ${process.pid} on this host, started ${lock.holder.startedAt}) holds the lock renew of ${dir}` +
            ` until ${lock.holder.expiresAt ?? ''}, unless that run extends its lease`,
        );
        return true;
      });
      // Other names are independent.
      const other = await acquireFileLock(dir, 'example.com', { wait: false });
      await other.release();
    } finally {
      await lock.release();
    }
  });

  test('a lock held by another certman process blocks; after it is SIGKILLed the lock is taken over', async () => {
    const dir = await configDir();
    const child = new LockChild(dir, 'renew');
    assert.equal(await child.next(), 'ready');
    assert.equal(await child.ask('take'), 'acquired');

    await assert.rejects(acquireFileLock(dir, 'renew', { wait: false }), (err: unknown) => {
      assert.ok(err instanceof LockedError);
      assert.match(err.message, new RegExp(`^another certman run \\(pid ${child.pid} on this host, started .+\\) holds the lock renew of `));
      return true;
    });

    child.process.kill('SIGKILL');
    await exited(child.process);
    const left = JSON.parse(await readFile(lockFilePath(dir, 'renew'), 'utf8')) as LockHolder;
    assert.equal(left.pid, child.pid, 'a killed process leaves its lock file');

    const lock = await acquireFileLock(dir, 'renew', { wait: false });
    const now = JSON.parse(await readFile(lockFilePath(dir, 'renew'), 'utf8')) as LockHolder;
    assert.equal(now.pid, process.pid);
    await lock.release();
    assert.deepEqual(await readdir(path.join(dir, LOCKS_DIR)), [], 'no stale or break files left');
  });

  test('a process that exits normally without release() leaves no lock', async () => {
    const dir = await configDir();
    const child = new LockChild(dir, 'renew');
    assert.equal(await child.next(), 'ready');
    assert.equal(await child.ask('take'), 'acquired');
    assert.equal(await exists(lockFilePath(dir, 'renew')), true);
    child.send('exit');
    await exited(child.process);
    assert.equal(await exists(lockFilePath(dir, 'renew')), false);
  });

  test('another process is blocked by our lock and gets it once we release', async () => {
    const dir = await configDir();
    const lock = await acquireFileLock(dir, 'renew', { wait: false });
    const child = new LockChild(dir, 'renew');
    assert.equal(await child.next(), 'ready');
    assert.match(await child.ask('take'), /^locked LockedError another certman run \(pid \d+/);
    await lock.release();
    assert.equal(await child.ask('take'), 'acquired');
    assert.equal(await child.ask('release'), 'released');
    assert.equal(await exists(lockFilePath(dir, 'renew')), false);
    child.process.stdin?.end();
    await exited(child.process);
  });

  test('a lock file naming a live process blocks', async () => {
    const dir = await configDir();
    const holder = liveProcess();
    assert.ok(holder.pid !== undefined);
    const processStart = processStartTime(holder.pid);
    await writeLock(dir, 'renew', { pid: holder.pid, hostname: os.hostname(), startedAt: '2025-01-01T00:00:00.000Z', processStart });
    await assert.rejects(acquireFileLock(dir, 'renew', { wait: false }), {
      name: 'LockedError',
      message: `another certman run (pid ${holder.pid} on this host, started 2025-01-01T00:00:00.000Z) holds the lock renew of ${dir}`,
    });
    // Without a recorded start time, a live pid is enough.
    await writeLock(dir, 'other', { pid: holder.pid, hostname: os.hostname(), startedAt: '2025-01-01T00:00:00.000Z' });
    await assert.rejects(acquireFileLock(dir, 'other', { wait: false }), LockedError);
    holder.kill('SIGKILL');
  });

  test('a lock file naming a dead pid is taken over', async () => {
    const dir = await configDir();
    const pid = await deadPid();
    const file = await writeLock(dir, 'renew', { pid, hostname: os.hostname(), startedAt: '2025-01-01T00:00:00.000Z', processStart: 1 });
    const lock = await acquireFileLock(dir, 'renew', { wait: false });
    assert.equal((JSON.parse(await readFile(file, 'utf8')) as LockHolder).pid, process.pid);
    await lock.release();
  });

  test('a live pid with another start time is a reused pid: stale', async (t) => {
    const holder = liveProcess();
    assert.ok(holder.pid !== undefined);
    const start = processStartTime(holder.pid);
    if (start === undefined) {
      t.skip('no /proc/<pid>/stat here');
      holder.kill('SIGKILL');
      return;
    }
    const dir = await configDir();
    await writeLock(dir, 'renew', { pid: holder.pid, hostname: os.hostname(), startedAt: '2025-01-01T00:00:00.000Z', processStart: start + 1 });
    const lock = await acquireFileLock(dir, 'renew', { wait: false });
    await lock.release();
    holder.kill('SIGKILL');
  });

  test('a lock from another host with a future expiry is held, whatever its pid means here', async () => {
    const dir = await configDir();
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    // The pid is dead here, which says nothing about a process on another host.
    await writeLock(dir, 'renew', { pid: await deadPid(), hostname: `not-${os.hostname()}`, startedAt: '2025-01-01T00:00:00.000Z', expiresAt });
    await assert.rejects(acquireFileLock(dir, 'renew', { wait: false }), (err: unknown) => {
      assert.ok(err instanceof LockedError);
      assert.equal(
        err.message,
        `another certman run (pid ${(JSON.parse(readFileSync(lockFilePath(dir, 'renew'), 'utf8')) as LockHolder).pid} on host not-${os.hostname()}, ` +
          `started 2025-01-01T00:00:00.000Z) holds the lock renew of ${dir} until ${expiresAt}, unless that run extends its lease`,
      );
      return true;
    });
  });

  test('a lock from another host whose lease ran out is taken over', async () => {
    const dir = await configDir();
    const expiresAt = new Date(Date.now() - 1000).toISOString();
    await writeLock(dir, 'renew', { pid: process.pid, hostname: `not-${os.hostname()}`, startedAt: new Date().toISOString(), expiresAt });
    const lock = await acquireFileLock(dir, 'renew', { wait: false });
    assert.equal(lock.holder.hostname, os.hostname());
    await lock.release();
  });

  test('a lock from another host without an expiry (certman before leases) is held for 15 min after it was taken', async () => {
    const dir = await configDir();
    const other = { pid: process.pid, hostname: `not-${os.hostname()}` };
    await writeLock(dir, 'renew', { ...other, startedAt: new Date(Date.now() - 14 * 60_000).toISOString() });
    await assert.rejects(acquireFileLock(dir, 'renew', { wait: false }), LockedError);
    // A file written just now counts from now, even when its startedAt is old.
    const file = await writeLock(dir, 'renew', { ...other, startedAt: '2025-01-01T00:00:00.000Z' });
    await assert.rejects(acquireFileLock(dir, 'renew', { wait: false }), LockedError);
    const old = new Date(Date.now() - LEGACY_LOCK_HOLD_MS - 1000);
    await utimes(file, old, old);
    const lock = await acquireFileLock(dir, 'renew', { wait: false });
    await lock.release();
  });

  test('a lock of this host whose process died is taken over at once, whatever its expiry says', async () => {
    const dir = await configDir();
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    await writeLock(dir, 'renew', { pid: await deadPid(), hostname: os.hostname(), startedAt: new Date().toISOString(), expiresAt });
    const lock = await acquireFileLock(dir, 'renew', { wait: false });
    await lock.release();
  });

  test('a live process of this host that let its lease run out (stalled) loses it, as on another host', async () => {
    const dir = await configDir();
    const holder = liveProcess();
    assert.ok(holder.pid !== undefined);
    const expiresAt = new Date(Date.now() - 60_000).toISOString();
    await writeLock(dir, 'renew', { pid: holder.pid, hostname: os.hostname(), startedAt: '2025-01-01T00:00:00.000Z', expiresAt });
    const lock = await acquireFileLock(dir, 'renew', { wait: false });
    assert.equal(lock.holder.pid, process.pid);
    await lock.release();
    holder.kill('SIGKILL');
  });

  test('a holder that stalled past its expiry does not extend it again: it has lost the lease', async () => {
    const dir = await configDir();
    const lock = await acquireFileLock(dir, 'renew', { wait: false, leaseMs: 200 });
    // A stall: the event loop blocked for longer than the lease, so no extension ran.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 400);
    assert.equal(await lock.extend(), 'lost');
    assert.equal(lock.lost, true);
    const other = await acquireFileLock(dir, 'renew', { wait: false });
    await other.release();
    await lock.release();
  });

  test('the holder extends its lease while it holds the lock, and stops when it releases', async () => {
    const dir = await configDir();
    const file = lockFilePath(dir, 'renew');
    // Long enough that a loaded machine's late timer does not make it run out (a late extension is a loss).
    const lock = await acquireFileLock(dir, 'renew', { wait: false, leaseMs: 2000 });
    const first = JSON.parse(await readFile(file, 'utf8')) as LockHolder;
    assert.match(first.owner ?? '', /^[0-9a-f]{32}$/);
    const expiry = Date.parse(first.expiresAt ?? '');
    assert.ok(Math.abs(expiry - (Date.parse(first.startedAt) + 2000)) < 5, `expires ${first.expiresAt}, started ${first.startedAt}`);
    assert.deepEqual(lock.holder, first);

    await waitFor(async () => Date.parse((JSON.parse(await readFile(file, 'utf8')) as LockHolder).expiresAt ?? '') > expiry);
    const later = JSON.parse(await readFile(file, 'utf8')) as LockHolder;
    assert.equal(later.owner, first.owner);
    assert.equal(later.startedAt, first.startedAt);
    assert.equal(lock.lost, false);

    await lock.release();
    assert.equal(await exists(file), false);
    await sleep(300); // a stopped timer writes nothing back
    assert.deepEqual(await readdir(path.join(dir, LOCKS_DIR)), []);
  });

  test('an extension waits for whoever holds the break file', async () => {
    const dir = await configDir();
    const lock = await acquireFileLock(dir, 'renew', { wait: false });
    await writeFile(`${lock.file}.break`, 'someone\n');
    assert.equal(await lock.extend(), 'busy');
    await unlink(`${lock.file}.break`);
    assert.equal(await lock.extend(), 'extended');
    assert.deepEqual(await readdir(path.join(dir, LOCKS_DIR)), ['renew.lock']);
    await lock.release();
  });

  test('a holder that finds another owner in its lock file has lost it: it stops and never touches that file', async () => {
    const dir = await configDir();
    const lock = await acquireFileLock(dir, 'renew', { wait: false, leaseMs: 400 });
    const foreign = JSON.stringify({ owner: 'f'.repeat(32), pid: 1, hostname: 'elsewhere', startedAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 60_000).toISOString() });
    await writeFile(lock.file, foreign);
    await waitFor(() => Promise.resolve(lock.lost));
    assert.equal(await lock.extend(), 'lost');
    await lock.release();
    assert.equal(await readFile(lock.file, 'utf8'), foreign);
  });

  test('two hosts: a lock held on another host blocks while its holder extends it, and frees one lease after it is killed', async () => {
    const dir = await configDir();
    const leaseMs = 1000;
    const child = new LockChild(dir, 'renew', { hostname: 'other-host', leaseMs });
    assert.equal(await child.next(), 'ready');
    assert.equal(await child.ask('take'), 'acquired');
    const file = lockFilePath(dir, 'renew');
    assert.equal((JSON.parse(await readFile(file, 'utf8')) as LockHolder).hostname, 'other-host');

    await assert.rejects(acquireFileLock(dir, 'renew', { wait: false }), /on host other-host/);
    await sleep(2 * leaseMs); // well past the first expiry: only extensions keep it held
    await assert.rejects(acquireFileLock(dir, 'renew', { wait: false }), /on host other-host/);

    child.process.kill('SIGKILL');
    await exited(child.process);
    const lastExpiry = Date.parse((JSON.parse(await readFile(file, 'utf8')) as LockHolder).expiresAt ?? '');
    const lock = await acquireFileLock(dir, 'renew', { wait: true, timeoutMs: 20_000 });
    assert.ok(Date.now() >= lastExpiry, 'taken over only once the lease ran out');
    assert.equal(lock.holder.hostname, os.hostname());
    await lock.release();
  });

  test('a break file left by a dead process of this host does not hold up taking over', async () => {
    const dir = await configDir();
    const dead = { pid: await deadPid(), hostname: os.hostname(), startedAt: new Date().toISOString() };
    const file = await writeLock(dir, 'renew', dead);
    await writeFile(`${file}.break`, JSON.stringify(dead));
    const lock = await acquireFileLock(dir, 'renew', { wait: false });
    await lock.release();
    assert.deepEqual(await readdir(path.join(dir, LOCKS_DIR)), []);
  });

  test('temp files a killed contender left in .locks are removed by the next one; those of a live writer stay', async () => {
    const dir = await configDir();
    const locks = path.join(dir, LOCKS_DIR);
    await mkdir(locks, { recursive: true });
    const temp = (pid: number) => `${TEMP_PREFIX}renew.lock-${hostTag()}-${pid}-0123456789ab`;
    await writeFile(path.join(locks, temp(await deadPid())), '{}');
    await writeFile(path.join(locks, temp(process.pid)), '{}');
    const lock = await acquireFileLock(dir, 'renew', { wait: false });
    await lock.release();
    assert.deepEqual(await readdir(locks), [temp(process.pid)]);
  });

  test('wait:true acquires once the holder releases', async () => {
    const dir = await configDir();
    const first = await acquireFileLock(dir, 'renew', { wait: false });
    const started = Date.now();
    setTimeout(() => void first.release(), 400);
    const second = await acquireFileLock(dir, 'renew', { wait: true, timeoutMs: 10_000 });
    const waited = Date.now() - started;
    assert.ok(waited >= 380 && waited < 3000, `waited ${waited} ms`);
    await second.release();
  });

  test('wait:true gives up after timeoutMs and says how long it waited', async () => {
    const dir = await configDir();
    const holder = await acquireFileLock(dir, 'renew', { wait: false });
    const started = Date.now();
    await assert.rejects(acquireFileLock(dir, 'renew', { wait: true, timeoutMs: 500 }), (err: unknown) => {
      assert.ok(err instanceof LockedError);
      assert.equal(err.exitCode, ExitCode.LOCKED);
      assert.match(err.message, /^gave up after waiting \d+ ms for the lock renew of .+: another certman run \(pid \d+ on this host, started .+\) holds the lock renew of /);
      return true;
    });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 500 && elapsed < 5000, `took ${elapsed} ms`);
    await holder.release();
  });

  test('a corrupt or empty lock file is treated as being written, then as stale after 10 s', async () => {
    const dir = await configDir();
    for (const content of ['', '{"pid":', 'not json', '{"pid":0,"hostname":"h","startedAt":"x"}']) {
      const file = await writeLock(dir, 'renew', content);
      await assert.rejects(acquireFileLock(dir, 'renew', { wait: false }), (err: unknown) => {
        assert.ok(err instanceof LockedError);
        assert.match(err.message, /lock file .* is being written/);
        return true;
      });
      const old = new Date(Date.now() - 11_000);
      await utimes(file, old, old);
      const lock = await acquireFileLock(dir, 'renew', { wait: false });
      await lock.release();
    }
  });

  test('a stale lock is won by exactly one of many contenders in one process', async () => {
    const dir = await configDir();
    await writeLock(dir, 'renew', { pid: await deadPid(), hostname: os.hostname(), startedAt: '2025-01-01T00:00:00.000Z' });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => acquireFileLock(dir, 'renew', { wait: false })));
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1);
    for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof LockedError);
    if (won[0]?.status === 'fulfilled') await won[0].value.release();
    assert.deepEqual(await readdir(path.join(dir, LOCKS_DIR)), []);
  });

  test('a stale lock is won by exactly one of many processes', async () => {
    const dir = await configDir();
    await writeLock(dir, 'renew', { pid: await deadPid(), hostname: os.hostname(), startedAt: '2025-01-01T00:00:00.000Z' });
    const contenders = Array.from({ length: 6 }, () => new LockChild(dir, 'renew'));
    for (const c of contenders) assert.equal(await c.next(), 'ready');
    for (const c of contenders) c.send('take');
    const answers = await Promise.all(contenders.map((c) => c.next()));
    assert.equal(answers.filter((a) => a === 'acquired').length, 1, answers.join('\n'));
    for (const a of answers) if (a !== 'acquired') assert.match(a, /^locked LockedError /);
    const winner = contenders[answers.indexOf('acquired')];
    const holder = JSON.parse(await readFile(lockFilePath(dir, 'renew'), 'utf8')) as LockHolder;
    assert.equal(holder.pid, winner?.pid);
    for (const c of contenders) c.process.stdin?.end();
    await Promise.all(contenders.map((c) => exited(c.process)));
    assert.deepEqual(await readdir(path.join(dir, LOCKS_DIR)), []);
  });

  test('release() leaves a lock file that is no longer ours', async () => {
    const dir = await configDir();
    const lock = await acquireFileLock(dir, 'renew', { wait: false });
    const foreign = JSON.stringify({ pid: 1, hostname: os.hostname(), startedAt: '2025-01-01T00:00:00.000Z' });
    await writeFile(lockFilePath(dir, 'renew'), foreign);
    await lock.release();
    assert.equal(await readFile(lockFilePath(dir, 'renew'), 'utf8'), foreign);
  });

  test('a released lock can be taken again; an old handle does not release the new lock', async () => {
    const dir = await configDir();
    const first = await acquireFileLock(dir, 'renew', { wait: false });
    await first.release();
    const second = await acquireFileLock(dir, 'renew', { wait: false });
    await first.release();
    assert.equal(await exists(lockFilePath(dir, 'renew')), true);
    await second.release();
    assert.equal(await exists(lockFilePath(dir, 'renew')), false);
  });

  test('invalid lock names are refused', async () => {
    const dir = await configDir();
    for (const name of ['', '../x', 'a/b', '.hidden']) {
      await assert.rejects(acquireFileLock(dir, name, { wait: false }), (err: unknown) => err instanceof CertmanError && !(err instanceof LockedError));
    }
  });

  test('leases through openStore(): per certificate and per account, the message names what is held and by whom', async () => {
    const dir = await configDir();
    const store = await openStore(dir);
    const lease = await store.lease({ certificate: 'a.example' }, { wait: false });
    await assert.rejects(store.lease({ certificate: 'a.example' }, { wait: false }), (err: unknown) => {
      assert.ok(err instanceof LockedError);
      assert.match(err.message, /certificate "a\.example"/);
      assert.match(err.message, new RegExp(`pid ${process.pid}`));
      assert.doesNotMatch(err.message, /the lock on/);
      return true;
    });
    // Another lineage is not held by it.
    const other = await store.lease({ certificate: 'b.example' }, { wait: false });
    await other.release();
    await lease.release();
    const again = await store.lease({ certificate: 'a.example' }, { wait: true, timeoutMs: 1000 });
    await again.release();

    const server = 'https://ca.test/directory';
    const account = await store.lease({ account: server }, { wait: false });
    await assert.rejects(store.lease({ account: server }, { wait: false }), new RegExp(`the account at ${server.replace(/[./]/g, '\\$&')}`));
    await account.release();
  });
});


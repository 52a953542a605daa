/**
 * Lock files that keep two certman runs from working on one config directory at once:
 *
 *   <configDir>/.locks/<name>.lock          {"pid","hostname","startedAt","processStart"} of the holder
 *   <configDir>/.locks/<name>.lock.break    held for a few milliseconds while a stale lock is removed
 *
 * Acquiring creates the lock file with O_CREAT|O_EXCL, so exactly one contender can create it.
 * A lock whose holder is gone never blocks: the holder is alive only if it runs on this host
 * (same hostname), its pid exists (kill(pid, 0)) and, when recorded, its start time in
 * /proc/<pid>/stat is the recorded one (a reused pid is another process). A lock file that is
 * unreadable as JSON is being written, or was left half-written by a crash once it is older
 * than {@link CORRUPT_LOCK_STALE_MS}.
 *
 * Removing a stale lock is race-safe: the contender first takes the `.break` file (O_EXCL), checks
 * that the lock file is still the very file (inode and content) it judged stale, renames it away
 * to a unique name, unlinks that, gives up `.break` and competes again with O_EXCL. Only a breaker
 * removes another process's lock file, and only the file it examined, so two contenders never both
 * win, and a fresh lock is never removed by someone who saw its stale predecessor.
 *
 * A process releases its locks when it exits normally (an 'exit' handler unlinks them
 * synchronously); one that is killed leaves its file behind for the next run to find stale.
 * Locks are not re-entrant: a second lock() on a name this process holds fails (or waits).
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, readFileSync, unlinkSync } from 'node:fs';
import { link, open, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { CertmanError, LockedError } from '../../errors.js';
import type { LockOptions, StoreLock } from '../types.js';
import { ensureDir, errorCode } from './atomic.js';
import { isValidName } from './names.js';

/** Folder of the lock files, under the config directory. */
export const LOCKS_DIR = '.locks';
/** A lock (or break) file that is not valid JSON and at least this old was left by a crash. */
export const CORRUPT_LOCK_STALE_MS = 10_000;
/** Polling interval bounds while waiting for a held lock (randomised so waiters do not march in step). */
const POLL_MIN_MS = 100;
const POLL_MAX_MS = 250;
/** Create/break rounds within one attempt before reporting the lock as held. */
const ROUNDS = 20;

/** Contents of a lock file. */
export interface LockHolder {
  pid: number;
  hostname: string;
  /** ISO time the lock was taken. */
  startedAt: string;
  /** Start time of the process in clock ticks after boot (/proc/<pid>/stat field 22), where known. */
  processStart?: number;
}

/** Path of the lock file for `name`. */
export function lockFilePath(configDir: string, name: string): string {
  return path.join(configDir, LOCKS_DIR, `${name}.lock`);
}

/** Start time of process `pid` (field 22 of /proc/<pid>/stat), or undefined where it cannot be read. */
export async function processStartTime(pid: number): Promise<number | undefined> {
  try {
    return parseStartTime(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

function processStartTimeSync(pid: number): number | undefined {
  try {
    return parseStartTime(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

function parseStartTime(stat: string): number | undefined {
  // "pid (comm) state ppid …": comm may contain spaces and parentheses, so split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 1).trim().split(/\s+/);
  const value = Number(fields[22 - 3]);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** Parses a lock file; undefined when it is not a complete, well-formed lock. */
export function parseLockHolder(text: string): LockHolder | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const { pid, hostname, startedAt, processStart } = data as Record<string, unknown>;
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid < 1) return undefined;
  if (typeof hostname !== 'string' || typeof startedAt !== 'string') return undefined;
  const holder: LockHolder = { pid, hostname, startedAt };
  if (processStart !== undefined && processStart !== null) {
    if (typeof processStart !== 'number' || !Number.isSafeInteger(processStart)) return undefined;
    holder.processStart = processStart;
  }
  return holder;
}

function sameHolder(a: LockHolder, b: LockHolder): boolean {
  return a.pid === b.pid && a.hostname === b.hostname && a.startedAt === b.startedAt && a.processStart === b.processStart;
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return errorCode(err) !== 'ESRCH';
  }
}

/** Whether the process named by a lock file may still be running. */
async function holderAlive(holder: LockHolder): Promise<boolean> {
  if (holder.hostname !== os.hostname()) return false;
  if (!pidExists(holder.pid)) return false;
  if (holder.processStart !== undefined) {
    const current = await processStartTime(holder.pid);
    if (current !== undefined && current !== holder.processStart) return false;
  }
  return true;
}

function lockError(action: string, err: unknown): CertmanError {
  if (err instanceof CertmanError) return err;
  const code = errorCode(err);
  const hint =
    code === 'EACCES' || code === 'EPERM'
      ? 'Run certman as a user allowed to write the config directory (usually root), or use another config directory.'
      : undefined;
  return new CertmanError(`${action}: ${err instanceof Error ? err.message : String(err)}`, { cause: err, hint });
}

/** A lock file as read once: its identity (to know it is still the same file later) and contents. */
interface Observed {
  dev: number;
  ino: number;
  mtimeMs: number;
  text: string;
  holder: LockHolder | undefined;
}

/** Reads a lock file, or undefined if there is none. */
async function observe(file: string): Promise<Observed | undefined> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const info = await handle.stat();
    const text = await handle.readFile('utf8');
    return { dev: info.dev, ino: info.ino, mtimeMs: info.mtimeMs, text, holder: parseLockHolder(text) };
  } finally {
    await handle.close();
  }
}

function sameFile(a: Observed, b: Observed): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.text === b.text;
}

async function isStale(seen: Observed, now: number): Promise<boolean> {
  if (seen.holder === undefined) return now - seen.mtimeMs >= CORRUPT_LOCK_STALE_MS;
  return !(await holderAlive(seen.holder));
}

/**
 * Removes the stale lock file `seen` if it is still in place. Returns false when another contender
 * is removing it right now (it holds the break file).
 */
async function breakStale(file: string, seen: Observed): Promise<boolean> {
  const breaker = `${file}.break`;
  let handle: FileHandle | undefined;
  try {
    handle = await open(breaker, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY, 0o600);
  } catch (err) {
    if (errorCode(err) !== 'EEXIST') throw err;
    // Held for milliseconds by a live breaker; one this old was left by a process killed meanwhile.
    const info = await stat(breaker).catch(() => undefined);
    if (info !== undefined && Date.now() - info.mtimeMs >= CORRUPT_LOCK_STALE_MS) {
      const again = await stat(breaker).catch(() => undefined);
      if (again !== undefined && again.ino === info.ino) await unlink(breaker).catch(() => undefined);
    }
    return false;
  }
  try {
    await handle.writeFile(`${process.pid}\n`);
    await handle.close();
    handle = undefined;
    const current = await observe(file);
    if (current === undefined || !sameFile(current, seen)) return true; // Already replaced or removed.
    const aside = `${file}.stale-${randomBytes(6).toString('hex')}`;
    await rename(file, aside);
    const moved = await observe(aside);
    if (moved !== undefined && !sameFile(moved, seen)) {
      // Cannot happen while we hold the break file; never keep someone else's lock out of place.
      await link(aside, file).catch(() => undefined);
    }
    await unlink(aside).catch(() => undefined);
    return true;
  } finally {
    await handle?.close();
    await unlink(breaker).catch(() => undefined);
  }
}

/** Tries to create the lock file once (breaking stale ones on the way). */
async function tryAcquire(file: string, holder: () => LockHolder): Promise<{ acquired: LockHolder } | { busy: Observed | undefined }> {
  let last: Observed | undefined;
  for (let round = 0; round < ROUNDS; round++) {
    const mine = holder();
    let handle: FileHandle | undefined;
    try {
      handle = await open(file, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY, 0o644);
    } catch (err) {
      if (errorCode(err) !== 'EEXIST') throw err;
    }
    if (handle !== undefined) {
      try {
        await handle.chmod(0o644);
        await handle.writeFile(`${JSON.stringify(mine)}\n`);
        await handle.close();
      } catch (err) {
        await handle.close().catch(() => undefined);
        await unlink(file).catch(() => undefined);
        throw err;
      }
      return { acquired: mine };
    }

    const seen = await observe(file);
    if (seen === undefined) continue; // Released meanwhile: compete again.
    last = seen;
    if (!(await isStale(seen, Date.now()))) return { busy: seen };
    if (!(await breakStale(file, seen))) await sleep(5 + Math.random() * 20);
  }
  return { busy: last };
}

function describeHolder(configDir: string, file: string, seen: Observed | undefined): string {
  const holder = seen?.holder;
  if (holder === undefined) return `another certman run holds the lock on ${configDir} (lock file ${file} is being written or removed)`;
  return `another certman run (pid ${holder.pid}, started ${holder.startedAt}) holds the lock on ${configDir}`;
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  return s < 60 ? `${Number(s.toFixed(1))} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** Locks of this process still held, released synchronously if the process exits. */
const held = new Set<FileLock>();
let exitHandlerInstalled = false;

function releaseAllOnExit(): void {
  for (const lock of held) lock.releaseSync();
}

/** A lock file this process created. */
export class FileLock implements StoreLock {
  private released = false;

  constructor(
    readonly file: string,
    readonly holder: LockHolder,
  ) {}

  /** Removes the lock file if it is still ours; a second call does nothing. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    held.delete(this);
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return;
      throw lockError(`cannot release the lock ${this.file}`, err);
    }
    const current = parseLockHolder(text);
    if (current === undefined || !sameHolder(current, this.holder)) return;
    try {
      await unlink(this.file);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw lockError(`cannot release the lock ${this.file}`, err);
    }
  }

  /** Synchronous release for the 'exit' handler; never throws. */
  releaseSync(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this);
    try {
      const current = parseLockHolder(readFileSync(this.file, 'utf8'));
      if (current !== undefined && sameHolder(current, this.holder)) unlinkSync(this.file);
    } catch {
      // Exiting anyway: the next run finds the file stale.
    }
  }
}

/**
 * Takes the lock `name` of a config directory. Held by a live process: throws {@link LockedError}
 * at once, or with `wait` polls every 100–250 ms until it is free or `timeoutMs` has passed.
 */
export async function acquireFileLock(configDir: string, name: string, options: LockOptions): Promise<FileLock> {
  if (!isValidName(name)) throw new CertmanError(`invalid lock name ${JSON.stringify(name)}`);
  const dir = path.join(configDir, LOCKS_DIR);
  const file = lockFilePath(configDir, name);
  try {
    await ensureDir(dir, 0o700);
  } catch (err) {
    throw lockError(`cannot create the lock folder ${dir}`, err);
  }

  const pid = process.pid;
  const hostname = os.hostname();
  const processStart = processStartTimeSync(pid);
  const holder = (): LockHolder => ({
    pid,
    hostname,
    startedAt: new Date().toISOString(),
    ...(processStart === undefined ? {} : { processStart }),
  });

  const begin = Date.now();
  const timeoutMs = options.timeoutMs ?? Infinity;
  for (;;) {
    let outcome;
    try {
      outcome = await tryAcquire(file, holder);
    } catch (err) {
      throw lockError(`cannot take the lock ${file}`, err);
    }
    if ('acquired' in outcome) {
      const lock = new FileLock(file, outcome.acquired);
      held.add(lock);
      if (!exitHandlerInstalled) {
        exitHandlerInstalled = true;
        process.on('exit', releaseAllOnExit);
      }
      return lock;
    }
    const reason = describeHolder(configDir, file, outcome.busy);
    if (!options.wait) throw new LockedError(reason);
    const waited = Date.now() - begin;
    if (waited >= timeoutMs) {
      throw new LockedError(`gave up after waiting ${formatDuration(waited)} for the lock: ${reason}`, 'try again later');
    }
    const interval = POLL_MIN_MS + Math.random() * (POLL_MAX_MS - POLL_MIN_MS);
    await sleep(Math.min(interval, Math.max(0, timeoutMs - waited)));
  }
}

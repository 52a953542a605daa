/**
 * Lock files that keep two certman runs from working on one config directory at once, also from two
 * hosts sharing it over NFS. A lock is a lease:
 *
 *   <configDir>/.locks/<name>.lock          {"owner","pid","hostname","bootId","pidNamespace","startedAt",
 *                                             "processStart","expiresAt"} of the holder
 *   <configDir>/.locks/<name>.lock.break    held for a few milliseconds by whoever replaces or removes the lock
 *
 * Acquiring creates the lock file with O_CREAT|O_EXCL, so exactly one contender can create it. The holder
 * keeps extending `expiresAt` (every quarter of the lease, from an unref'd timer) while it runs, and stops
 * when it releases. Whether a lock is still held:
 * - written on this host (same hostname, boot and PID namespace): while its process lives, whatever the
 *   expiry says: its pid exists (kill(pid, 0)) and, when recorded, /proc/<pid>/stat shows the recorded start
 *   time (a reused pid is another process). A dead holder's lock is taken over at once.
 * - written elsewhere, where its pid means nothing here: until `expiresAt`. A dead node blocks for at most
 *   one lease ({@link DEFAULT_LEASE_MS}). Hosts must agree on the time to well within a lease (NTP).
 * - written elsewhere by a certman from before leases (no `expiresAt`; it never extended its lock): until
 *   {@link LEGACY_LOCK_HOLD_MS} after it was taken, longer than such a run's random sleep and work, then
 *   it is taken as abandoned.
 * - unreadable as JSON: being written, or left half-written by a crash once older than
 *   {@link CORRUPT_LOCK_STALE_MS}.
 *
 * Whoever replaces or removes a lock file other than by creating it (breaking a stale lock, extending or
 * releasing one's own) first takes the `.break` file (O_EXCL) and checks that the lock is still the very file
 * it judged (breaking: inode and content; extending and releasing: its owner id). A breaker renames the stale
 * file to a unique name, unlinks that and competes again with O_EXCL, so two contenders never both win and
 * a fresh lock is never removed by someone who saw its stale predecessor. An extension writes the new record
 * into the `.break` file it holds and renames that over the lock: one rename replaces the lock atomically and
 * gives up `.break`. A holder that finds another owner's record has lost its lease (it was stalled for a
 * whole lease and someone took over): it stops extending and never touches that record.
 *
 * A process releases its locks when it exits normally (an 'exit' handler unlinks them synchronously); one
 * that is killed leaves its file behind for the next run to find stale. Locks are not re-entrant: a second
 * lock() on a name this process holds fails (or waits).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants as fsConstants, openSync, readFileSync, readlinkSync, unlinkSync } from 'node:fs';
import { link, open, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { CertmanError, LockedError } from '../../errors.js';
import type { LockOptions, StoreLock } from '../types.js';
import { ensureDir, errorCode, fsErrorHint } from './atomic.js';
import { isValidName } from './names.js';

/** Folder of the lock files, under the config directory. */
export const LOCKS_DIR = '.locks';
/** A lock (or break) file that is not valid JSON and at least this old was left by a crash. */
export const CORRUPT_LOCK_STALE_MS = 10_000;
/** Lease length unless LockOptions.leaseMs says otherwise: how long a dead node can block the others. */
export const DEFAULT_LEASE_MS = 60_000;
/** A lock file without an expiry from another host counts as held this long after it was taken. */
export const LEGACY_LOCK_HOLD_MS = 15 * 60_000;
/** Polling interval bounds while waiting for a held lock (randomised so waiters do not march in step). */
const POLL_MIN_MS = 100;
const POLL_MAX_MS = 250;
/** Create/break rounds within one attempt before reporting the lock as held. */
const ROUNDS = 20;
/** Attempts at the `.break` file before a release gives up (leaving the lock to expire). */
const RELEASE_ATTEMPTS = 20;

/** Contents of a lock file. */
export interface LockHolder {
  /** Random id of this lease; absent in lock files written before leases. */
  owner?: string;
  pid: number;
  hostname: string;
  /** /proc/sys/kernel/random/boot_id of the holder's host, where known. */
  bootId?: string;
  /** The holder's PID namespace (readlink /proc/self/ns/pid), where known. */
  pidNamespace?: string;
  /** ISO time the lock was taken. */
  startedAt: string;
  /** Start time of the process in clock ticks after boot (/proc/<pid>/stat field 22), where known. */
  processStart?: number;
  /** ISO time the lease runs out unless extended; absent in lock files written before leases. */
  expiresAt?: string;
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

function parseStartTime(stat: string): number | undefined {
  // "pid (comm) state ppid …": comm may contain spaces and parentheses, so split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 1).trim().split(/\s+/);
  const value = Number(fields[22 - 3]);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function readOr<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** Where this process runs: a lock with the same identity names a pid this process can check. */
interface HostIdentity {
  hostname: string;
  bootId?: string;
  pidNamespace?: string;
}

let identity: HostIdentity | undefined;

function thisHost(): HostIdentity {
  if (identity === undefined) {
    const bootId = readOr(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    const pidNamespace = readOr(() => readlinkSync('/proc/self/ns/pid'));
    identity = {
      hostname: os.hostname(),
      ...(bootId === undefined || bootId === '' ? {} : { bootId }),
      ...(pidNamespace === undefined ? {} : { pidNamespace }),
    };
  }
  return identity;
}

/** Whether the holder's pid can be checked here; a part either side does not know does not count. */
function onThisHost(holder: LockHolder, here: HostIdentity = thisHost()): boolean {
  const agree = (a: string | undefined, b: string | undefined) => a === undefined || b === undefined || a === b;
  return holder.hostname === here.hostname && agree(holder.bootId, here.bootId) && agree(holder.pidNamespace, here.pidNamespace);
}

const optionalStrings = ['owner', 'bootId', 'pidNamespace', 'expiresAt'] as const;

/** Parses a lock file; undefined when it is not a complete, well-formed lock. */
export function parseLockHolder(text: string): LockHolder | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const record = data as Record<string, unknown>;
  const { pid, hostname, startedAt, processStart } = record;
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid < 1) return undefined;
  if (typeof hostname !== 'string' || typeof startedAt !== 'string') return undefined;
  const holder: LockHolder = { pid, hostname, startedAt };
  if (processStart !== undefined && processStart !== null) {
    if (typeof processStart !== 'number' || !Number.isSafeInteger(processStart)) return undefined;
    holder.processStart = processStart;
  }
  for (const key of optionalStrings) {
    const value = record[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') return undefined;
    holder[key] = value;
  }
  if (holder.expiresAt !== undefined && Number.isNaN(Date.parse(holder.expiresAt))) return undefined;
  return holder;
}

function serializeHolder(holder: LockHolder): string {
  return `${JSON.stringify(holder)}\n`;
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

/** Whether a process of this host named by a lock file may still be running. */
async function processAlive(holder: LockHolder): Promise<boolean> {
  if (!pidExists(holder.pid)) return false;
  if (holder.processStart !== undefined) {
    const current = await processStartTime(holder.pid);
    if (current !== undefined && current !== holder.processStart) return false;
  }
  return true;
}

/** When the lease of a lock written on another host runs out (ms since the epoch). */
function leaseEnd(holder: LockHolder, mtimeMs: number): number {
  if (holder.expiresAt !== undefined) return Date.parse(holder.expiresAt);
  const taken = Date.parse(holder.startedAt);
  return Math.max(Number.isNaN(taken) ? 0 : taken, mtimeMs) + LEGACY_LOCK_HOLD_MS;
}

function lockError(action: string, err: unknown): CertmanError {
  if (err instanceof CertmanError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new CertmanError(`${action}: ${detail}`, { cause: err, hint: fsErrorHint(err) });
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
  if (onThisHost(seen.holder)) return !(await processAlive(seen.holder));
  return now >= leaseEnd(seen.holder, seen.mtimeMs);
}

/** The `.break` file of a lock, held exclusively while the lock file is replaced or removed. */
interface BreakFile {
  path: string;
  handle: FileHandle;
}

/**
 * Takes `<file>.break`, or returns undefined when someone else holds it (removing it first when it was
 * left by a process killed while holding it).
 */
async function takeBreakFile(file: string): Promise<BreakFile | undefined> {
  const breaker = `${file}.break`;
  try {
    const handle = await open(breaker, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY, 0o600);
    return { path: breaker, handle };
  } catch (err) {
    if (errorCode(err) !== 'EEXIST') throw err;
  }
  // Held for milliseconds by a live process; one this old was left by a process killed meanwhile.
  const info = await stat(breaker).catch(() => undefined);
  if (info !== undefined && Date.now() - info.mtimeMs >= CORRUPT_LOCK_STALE_MS) {
    const again = await stat(breaker).catch(() => undefined);
    if (again !== undefined && again.ino === info.ino) await unlink(breaker).catch(() => undefined);
  }
  return undefined;
}

async function dropBreakFile(breaker: BreakFile): Promise<void> {
  await breaker.handle.close().catch(() => undefined);
  await unlink(breaker.path).catch(() => undefined);
}

/**
 * Removes the stale lock file `seen` if it is still in place. Returns false when another contender
 * is removing it right now (it holds the break file).
 */
async function breakStale(file: string, seen: Observed): Promise<boolean> {
  const breaker = await takeBreakFile(file);
  if (breaker === undefined) return false;
  try {
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
    await dropBreakFile(breaker);
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
        await handle.writeFile(serializeHolder(mine));
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
  if (onThisHost(holder)) return `another certman run (pid ${holder.pid}, started ${holder.startedAt}) holds the lock on ${configDir}`;
  const until = new Date(leaseEnd(holder, seen?.mtimeMs ?? 0)).toISOString();
  return (
    `another certman run (pid ${holder.pid} on host ${holder.hostname}, started ${holder.startedAt}) holds the lock on ${configDir}` +
    ` until ${until}, unless that run extends its lease`
  );
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

/** What one extension attempt did. */
export type ExtendOutcome = 'extended' | 'busy' | 'lost' | 'released';

/** A lock file this process created: a lease it extends until it releases it. */
export class FileLock implements StoreLock {
  private released = false;
  private lostLease = false;
  private current: LockHolder;
  private readonly timer: NodeJS.Timeout;
  /** The extension in progress, which release() waits for. */
  private extending: Promise<ExtendOutcome> | undefined;

  constructor(
    readonly file: string,
    holder: LockHolder,
    readonly leaseMs: number,
  ) {
    this.current = holder;
    this.timer = setInterval(() => void this.extend().catch(() => undefined), Math.max(1, leaseMs / 4));
    // The lease must never keep the process alive on its own.
    this.timer.unref();
  }

  /** The record in the lock file, with the latest expiry. */
  get holder(): LockHolder {
    return { ...this.current };
  }

  /** True once another owner's record was found in the lock file: this process no longer holds it. */
  get lost(): boolean {
    return this.lostLease;
  }

  /**
   * Moves the expiry one lease ahead if the lock file still names this owner. `busy` when another
   * process held the break file (the timer tries again a quarter lease later).
   */
  extend(): Promise<ExtendOutcome> {
    this.extending ??= this.extendOnce().finally(() => {
      this.extending = undefined;
    });
    return this.extending;
  }

  private async extendOnce(): Promise<ExtendOutcome> {
    if (this.released) return 'released';
    if (this.lostLease) return 'lost';
    const breaker = await takeBreakFile(this.file);
    if (breaker === undefined) return 'busy';
    let renamed = false;
    try {
      const seen = await observe(this.file);
      if (seen?.holder?.owner !== this.current.owner) {
        this.stop(true);
        return 'lost';
      }
      const next: LockHolder = { ...this.current, expiresAt: new Date(Date.now() + this.leaseMs).toISOString() };
      await breaker.handle.writeFile(serializeHolder(next));
      await breaker.handle.chmod(0o644);
      await breaker.handle.close();
      await rename(breaker.path, this.file);
      renamed = true;
      this.current = next;
      return 'extended';
    } finally {
      if (!renamed) await dropBreakFile(breaker);
    }
  }

  private stop(lost: boolean): void {
    clearInterval(this.timer);
    held.delete(this);
    if (lost) this.lostLease = true;
  }

  /** Removes the lock file if it is still ours; a second call does nothing. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.stop(false);
    await this.extending;
    if (this.lostLease) return;
    for (let attempt = 1; attempt <= RELEASE_ATTEMPTS; attempt++) {
      let breaker: BreakFile | undefined;
      try {
        breaker = await takeBreakFile(this.file);
        if (breaker === undefined) {
          await sleep(5 + Math.random() * 20);
          continue;
        }
        const seen = await observe(this.file);
        if (seen?.holder?.owner === this.current.owner) await unlink(this.file);
        return;
      } catch (err) {
        if (errorCode(err) === 'ENOENT') return;
        throw lockError(`cannot release the lock ${this.file}`, err);
      } finally {
        if (breaker !== undefined) await dropBreakFile(breaker);
      }
    }
    // Someone kept the break file all along: the lock expires (or is found dead) on its own.
  }

  /** Synchronous release for the 'exit' handler; never throws. */
  releaseSync(): void {
    if (this.released) return;
    this.released = true;
    this.stop(false);
    const breaker = `${this.file}.break`;
    let fd: number | undefined;
    try {
      fd = openSync(breaker, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY, 0o600);
      const current = parseLockHolder(readFileSync(this.file, 'utf8'));
      if (current?.owner === this.current.owner) unlinkSync(this.file);
    } catch {
      // Exiting anyway: the next run finds the file stale.
    } finally {
      if (fd !== undefined) {
        closeSync(fd);
        readOr(() => unlinkSync(breaker));
      }
    }
  }
}

/**
 * Takes the lock `name` of a config directory. Held by a live process (or an unexpired lease of another
 * host): throws {@link LockedError} at once, or with `wait` polls every 100–250 ms until it is free or
 * `timeoutMs` has passed.
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

  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const pid = process.pid;
  const processStart = readOr(() => parseStartTime(readFileSync(`/proc/${pid}/stat`, 'utf8')));
  const holder = (): LockHolder => {
    const now = Date.now();
    return {
      owner: randomBytes(16).toString('hex'),
      pid,
      ...thisHost(),
      startedAt: new Date(now).toISOString(),
      ...(processStart === undefined ? {} : { processStart }),
      expiresAt: new Date(now + leaseMs).toISOString(),
    };
  };

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
      const lock = new FileLock(file, outcome.acquired, leaseMs);
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

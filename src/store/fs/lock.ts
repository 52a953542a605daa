/**
 * Lock files that keep two certman runs from working on the same thing at once (a certificate, an account
 * registration, one read-modify-write, a port: see lease.ts), also two hosts sharing the folder over NFS.
 * A lock is a lease:
 *
 *   <configDir>/.locks/<name>.lock          {"owner","pid","hostname","bootId","pidNamespace","startedAt",
 *                                             "processStart","expiresAt"} of the holder
 *   <configDir>/.locks/<name>.lock.break    held for a few milliseconds by whoever replaces or removes the lock
 *
 * Lock and break files are created complete: the record is written to a temp file that is then hard-linked
 * to the name, which fails if the name exists (atomic, also over NFS), so exactly one contender creates it
 * and nobody ever reads a half-written one, even when its writer is killed. The holder keeps extending
 * `expiresAt` (every quarter of the lease, from an unref'd timer) while it runs, and stops when it
 * releases. Whether a lock is still held:
 * - written on this host (same hostname, boot and PID namespace): while its process lives, whatever the
 *   expiry says: its pid exists (kill(pid, 0)) and, when recorded, /proc/<pid>/stat shows the recorded start
 *   time (a reused pid is another process). A dead holder's lock is taken over at once.
 * - written elsewhere, where its pid means nothing here: until `expiresAt`. A dead node blocks for at most
 *   one lease ({@link DEFAULT_LEASE_MS}). Hosts must agree on the time to well within a lease (NTP).
 * - written elsewhere by a certman from before leases (no `expiresAt`; it never extended its lock): until
 *   {@link LEGACY_LOCK_HOLD_MS} after it was taken, longer than such a run's random sleep and work, then
 *   it is taken as abandoned.
 * - unreadable as JSON (damaged by hand, or written by an old certman): stale once older than
 *   {@link CORRUPT_LOCK_STALE_MS}.
 *
 * Whoever replaces or removes a lock file other than by creating it (breaking a stale lock, extending or
 * releasing one's own) first takes the `.break` file, which records who holds it, and checks that the lock is
 * still the very file it judged (breaking: inode and content; extending and releasing: its owner id). A
 * `.break` file of a dead process of this host is removed at once, any other after
 * {@link CORRUPT_LOCK_STALE_MS}. A breaker renames the stale file to `<name>.lock.stale` (only the `.break`
 * holder uses that name), unlinks that and competes again, so two contenders never both win and
 * a fresh lock is never removed by someone who saw its stale predecessor. An extension writes the new record
 * into the `.break` file it holds and renames that over the lock: one rename replaces the lock atomically and
 * gives up `.break`. A holder that finds another owner's record has lost its lease (it was stalled for a
 * whole lease and someone took over): it stops extending and never touches that record.
 *
 * A process releases its locks when it exits normally (an 'exit' handler unlinks them synchronously); one
 * that is killed leaves its file behind for the next run to find stale. Locks are not re-entrant: a second
 * lock() on a name this process holds fails (or waits).
 */
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { link, open, readdir, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { CertmanError, LeaseLostError, messageOf } from '../../errors.js';
import type { LeaseOptions } from '../types.js';
import { ensureDir, errorCode, fsErrorHint, removeAbandonedTemps, tempPath } from './atomic.js';
import { onThisHost, processAlive, processStartTime, thisHost } from './host.js';
import { isValidName } from './names.js';
import { parseJsonOrUndefined } from '../json.js';
import { DEFAULT_LEASE_MS, waitForNextTry } from '../lease-wait.js';

/** Folder of the lock files, under the config directory. */
export const LOCKS_DIR = '.locks';
/** A lock file that is not valid JSON, or a break file of another host, this old is stale. */
export const CORRUPT_LOCK_STALE_MS = 10_000;
/** A lock file without an expiry from another host counts as held this long after it was taken. */
export const LEGACY_LOCK_HOLD_MS = 15 * 60_000;
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

const optionalStrings = ['owner', 'bootId', 'pidNamespace', 'expiresAt'] as const;

/** Parses a lock file; undefined when it is not a complete, well-formed lock. */
export function parseLockHolder(text: string): LockHolder | undefined {
  const data = parseJsonOrUndefined(text);
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

/** Whether the process of this host named by a lock or break file may still be running. */
function holderAlive(holder: LockHolder): boolean {
  return processAlive(holder.pid, holder.processStart);
}

/** When the lease of a lock written on another host runs out (ms since the epoch). */
function leaseEnd(holder: LockHolder, mtimeMs: number): number {
  if (holder.expiresAt !== undefined) return Date.parse(holder.expiresAt);
  const taken = Date.parse(holder.startedAt);
  return Math.max(Number.isNaN(taken) ? 0 : taken, mtimeMs) + LEGACY_LOCK_HOLD_MS;
}

function lockError(action: string, err: unknown): CertmanError {
  if (err instanceof CertmanError) return err;
  const detail = messageOf(err);
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

/**
 * Whether a lock may be taken over. On this host: its process is gone, or it stopped extending its lease
 * (a stalled run loses it as it would on another host; locks written before leases have no expiry here).
 * Of another host: its lease ran out.
 */
function isStale(seen: Observed, now: number): boolean {
  if (seen.holder === undefined) return now - seen.mtimeMs >= CORRUPT_LOCK_STALE_MS;
  if (onThisHost(seen.holder)) return !holderAlive(seen.holder) || (seen.holder.expiresAt !== undefined && now >= Date.parse(seen.holder.expiresAt));
  return now >= leaseEnd(seen.holder, seen.mtimeMs);
}

/**
 * Creates `target` holding `content`, or returns false if it exists: the content goes to a temp file
 * first, which is then hard-linked to `target` (link never replaces an existing name).
 */
async function createExclusive(target: string, content: string, mode: number): Promise<boolean> {
  const tmp = tempPath(target);
  try {
    await writeFile(tmp, content, { flag: 'wx', mode });
    await link(tmp, target);
    return true;
  } catch (err) {
    if (errorCode(err) === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** The `.break` file of a lock, which this process holds while it replaces or removes the lock file. */
function breakPath(file: string): string {
  return `${file}.break`;
}

/**
 * Takes `<file>.break`, recording `record` in it; false when someone else holds it (after removing it
 * if it was left by a process that died holding it).
 */
async function takeBreakFile(file: string, record: LockHolder): Promise<boolean> {
  const breaker = breakPath(file);
  if (await createExclusive(breaker, serializeHolder(record), 0o644)) return true;
  // Held for milliseconds by a live process; a dead one of this host, or one this old, left it.
  const seen = await observe(breaker);
  if (seen === undefined) return false;
  const dead = seen.holder !== undefined && onThisHost(seen.holder) && !holderAlive(seen.holder);
  if (dead || Date.now() - seen.mtimeMs >= CORRUPT_LOCK_STALE_MS) {
    const again = await stat(breaker).catch(() => undefined);
    if (again !== undefined && again.ino === seen.ino) await unlink(breaker).catch(() => undefined);
  }
  return false;
}

async function dropBreakFile(file: string): Promise<void> {
  await unlink(breakPath(file)).catch(() => undefined);
}

/** Where a breaker moves a stale lock file before unlinking it; only the `.break` holder uses it. */
function asidePath(file: string): string {
  return `${file}.stale`;
}

/**
 * Removes the stale lock file `seen` if it is still in place. Returns false when another contender
 * is removing it right now (it holds the break file).
 */
async function breakStale(file: string, seen: Observed, record: LockHolder): Promise<boolean> {
  if (!(await takeBreakFile(file, record))) return false;
  try {
    const current = await observe(file);
    if (current === undefined || !sameFile(current, seen)) return true; // Already replaced or removed.
    const aside = asidePath(file);
    await rename(file, aside);
    const moved = await observe(aside);
    if (moved !== undefined && !sameFile(moved, seen)) {
      // Cannot happen while we hold the break file; never keep someone else's lock out of place.
      await link(aside, file).catch(() => undefined);
    }
    await unlink(aside).catch(() => undefined);
    return true;
  } finally {
    await dropBreakFile(file);
  }
}

/** Tries to create the lock file once (breaking stale ones on the way). */
async function tryAcquire(file: string, holder: () => LockHolder): Promise<{ acquired: LockHolder } | { busy: Observed | undefined }> {
  let last: Observed | undefined;
  for (let round = 0; round < ROUNDS; round++) {
    const mine = holder();
    if (await createExclusive(file, serializeHolder(mine), 0o644)) return { acquired: mine };
    const seen = await observe(file);
    if (seen === undefined) continue; // Released meanwhile: compete again.
    last = seen;
    if (!isStale(seen, Date.now())) return { busy: seen };
    if (!(await breakStale(file, seen, mine))) await sleep(5 + Math.random() * 20);
  }
  return { busy: last };
}

/** Who holds `what` (pid, host, since and until when), for the LockedError of a run that wanted it. */
function describeHolder(what: string, file: string, seen: Observed | undefined): string {
  const holder = seen?.holder;
  if (holder === undefined) return `another certman run holds ${what} (lock file ${file} is being written or removed)`;
  const where = onThisHost(holder) ? 'this host' : `host ${holder.hostname}`;
  const held = `another certman run (pid ${holder.pid} on ${where}, started ${holder.startedAt}) holds ${what}`;
  // On this host a lock written before leases is held as long as its process runs.
  if (onThisHost(holder) && holder.expiresAt === undefined) return held;
  return `${held} until ${new Date(leaseEnd(holder, seen?.mtimeMs ?? 0)).toISOString()}, unless that run extends its lease`;
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
export class FileLock {
  private released = false;
  private lostLease = false;
  private readonly lostController = new AbortController();
  private current: LockHolder;
  private readonly timer: NodeJS.Timeout;
  /** The extension in progress, which release() waits for. */
  private extending: Promise<ExtendOutcome> | undefined;

  constructor(
    readonly file: string,
    holder: LockHolder,
    readonly leaseMs: number,
    /** What the lease is on, for messages. */
    private readonly what: string,
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

  /** Aborted when the lease is found lost (by an extension or {@link confirm}). */
  get lostSignal(): AbortSignal {
    return this.lostController.signal;
  }

  /** The owner id this lease was taken with. */
  get owner(): string {
    return this.current.owner ?? '';
  }

  /**
   * Whether the lock file still names this owner with an expiry ahead (read from the file, not only memory).
   * A lease past its expiry counts as lost even if nobody took it yet: another host may take it any moment.
   */
  async confirm(): Promise<boolean> {
    if (this.released || this.lostLease) return false;
    const seen = await observe(this.file).catch(() => undefined);
    const holder = seen?.holder;
    const held = holder !== undefined && holder.owner === this.current.owner && holder.expiresAt !== undefined && Date.parse(holder.expiresAt) > Date.now();
    if (!held) this.stop(true);
    return held;
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
    if (this.expired()) {
      // Stalled for a whole lease: another run may hold it already, so it is not taken back.
      this.stop(true);
      return 'lost';
    }
    const next: LockHolder = { ...this.current, expiresAt: new Date(Date.now() + this.leaseMs).toISOString() };
    // The break file is written with the extended record: renaming it over the lock file replaces the
    // lock and gives up the break file in one step.
    if (!(await takeBreakFile(this.file, next))) return 'busy';
    let renamed = false;
    try {
      const seen = await observe(this.file);
      if (seen?.holder?.owner !== this.current.owner) {
        this.stop(true);
        return 'lost';
      }
      await rename(breakPath(this.file), this.file);
      renamed = true;
      this.current = next;
      return 'extended';
    } finally {
      if (!renamed) await dropBreakFile(this.file);
    }
  }

  private expired(): boolean {
    return this.current.expiresAt !== undefined && Date.now() >= Date.parse(this.current.expiresAt);
  }

  private stop(lost: boolean): void {
    clearInterval(this.timer);
    held.delete(this);
    if (lost && !this.lostLease) {
      this.lostLease = true;
      this.lostController.abort(new LeaseLostError(this.what));
    }
  }

  /**
   * Removes the lock file if it is still ours; a second call does nothing. Never fails: a lock it cannot
   * remove (a full or read-only disk) is found dead once this process has exited.
   */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.stop(false);
    await this.extending;
    if (this.lostLease) return;
    for (let attempt = 1; attempt <= RELEASE_ATTEMPTS; attempt++) {
      // Without room for a break file, remove it unguarded: only a stalled holder can lose that race.
      const holding = await takeBreakFile(this.file, this.current).catch(() => undefined);
      if (holding === false) {
        await sleep(5 + Math.random() * 20);
        continue;
      }
      try {
        const seen = await observe(this.file);
        if (seen?.holder?.owner === this.current.owner) await unlink(this.file);
        if (holding === true) await unlink(asidePath(this.file)).catch(() => undefined);
      } catch {
        // Left for the next run to find dead.
      } finally {
        if (holding === true) await dropBreakFile(this.file);
      }
      return;
    }
    // Someone kept the break file all along: the lock expires (or is found dead) on its own.
  }

  /** Synchronous release for the 'exit' handler; never throws. */
  releaseSync(): void {
    if (this.released) return;
    this.released = true;
    this.stop(false);
    const breaker = breakPath(this.file);
    const tmp = tempPath(breaker);
    let holding = false;
    try {
      try {
        writeFileSync(tmp, serializeHolder(this.current), { flag: 'wx', mode: 0o644 });
        linkSync(tmp, breaker);
        holding = true;
      } catch (err) {
        if (errorCode(err) === 'EEXIST') return;
      }
      const current = parseLockHolder(readFileSync(this.file, 'utf8'));
      if (current?.owner === this.current.owner) unlinkSync(this.file);
    } catch {
      // Exiting anyway: the next run finds the file stale.
    } finally {
      for (const leftover of holding ? [tmp, breaker] : [tmp]) {
        try {
          unlinkSync(leftover);
        } catch {
          // not there
        }
      }
    }
  }
}

/**
 * Takes the lock `name` in `dir`'s .locks/. Held by a live process (or an unexpired lease of another
 * host): throws {@link LockedError} at once, or with `wait` polls every 100–250 ms until it is free or
 * `timeoutMs` has passed.
 */
export async function acquireFileLock(configDir: string, name: string, options: LeaseOptions, what = `the lock ${name} of ${configDir}`): Promise<FileLock> {
  if (!isValidName(name)) throw new CertmanError(`invalid lock name ${JSON.stringify(name)}`);
  const dir = path.join(configDir, LOCKS_DIR);
  const file = lockFilePath(configDir, name);
  try {
    await ensureDir(dir, 0o700);
    await removeAbandonedTemps(dir, await readdir(dir));
  } catch (err) {
    throw lockError(`cannot create the lock folder ${dir}`, err);
  }

  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const pid = process.pid;
  const processStart = processStartTime(pid);
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
  for (;;) {
    options.signal?.throwIfAborted();
    let outcome;
    try {
      outcome = await tryAcquire(file, holder);
    } catch (err) {
      throw lockError(`cannot take the lock ${file}`, err);
    }
    if ('acquired' in outcome) {
      const lock = new FileLock(file, outcome.acquired, leaseMs, what);
      held.add(lock);
      if (!exitHandlerInstalled) {
        exitHandlerInstalled = true;
        process.on('exit', releaseAllOnExit);
      }
      return lock;
    }
    await waitForNextTry(options, begin, what, describeHolder(what, file, outcome.busy));
  }
}

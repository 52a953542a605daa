import { constants } from 'node:fs';
import { lstat, open, readdir, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { CertmanError, messageOf } from '../../errors.js';
import { ensureDir, errorCode, isTempName, writeFileAtomic } from './atomic.js';
import { isSafeToken } from '../../challenge/token.js';
import { encodeTokenEntry, newTokenEntry, parseTokenEntry, type TokenEntry } from '../token-entry.js';
import type { PendingToken, TokenStore } from '../types.js';

export { encodeTokenEntry, type TokenEntry } from '../token-entry.js';

/**
 * Key authorizations are public by design (the CA and anyone else can fetch them over plain HTTP),
 * and serve-challenge may run as an unprivileged user (`--user`): the folder and files are world-readable.
 */
const DIR_MODE = 0o755;
const FILE_MODE = 0o644;
/** A stored entry is a few hundred bytes; anything bigger was not written by certman. */
const MAX_ENTRY_BYTES = 16 * 1024;
/** Temp files older than this were left by a run that died mid-write. */
const STALE_TEMP_MS = 60 * 60_000;

export interface FsTokenStoreOptions {
  /** Clock, for tests. */
  now?: () => number;
  /** At most one sweep of expired entries per this long, started by put(). Default 60 s; 0 = never. */
  sweepIntervalMs?: number;
}

/** The folder of the filesystem token store inside a config dir. */
export function challengesDir(configDir: string): string {
  return join(configDir, 'challenges');
}

/**
 * Filesystem token store: one JSON file per token, written atomically (temp + fsync + rename), so a
 * reader sees a whole entry or none. Reads never follow symlinks and never leave the folder: the
 * file name is the validated token. Expired entries are ignored, removed when read, and swept.
 */
export class FsTokenStore implements TokenStore {
  readonly dir: string;
  private readonly now: () => number;
  private readonly sweepIntervalMs: number;
  private lastSweep = Number.NEGATIVE_INFINITY;
  private sweeping: Promise<number> | undefined;

  constructor(configDir: string, options: FsTokenStoreOptions = {}) {
    this.dir = challengesDir(configDir);
    this.now = options.now ?? Date.now;
    this.sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
  }

  async put(token: string, keyAuthorization: string, domain: string, ttlMs: number): Promise<void> {
    const entry = newTokenEntry(token, keyAuthorization, domain, ttlMs, this.now());
    await this.ensureDir();
    const file = this.file(token);
    await writeFileAtomic(file, encodeTokenEntry(entry), FILE_MODE);
    // The modification time carries the expiry, so a sweep can skip pending entries without reading them.
    const at = new Date(entry.expiresAt);
    await utimes(file, at, at).catch(() => undefined);
    this.maybeSweep();
  }

  async get(token: string): Promise<PendingToken | undefined> {
    if (!isSafeToken(token)) return undefined;
    const entry = await this.read(token);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      // Best effort: an unprivileged server may not be allowed to remove it; put()'s sweep will.
      await unlink(this.file(token)).catch(() => undefined);
      return undefined;
    }
    return { keyAuthorization: entry.keyAuthorization, domain: entry.domain };
  }

  async delete(token: string): Promise<void> {
    if (!isSafeToken(token)) return;
    try {
      await unlink(this.file(token));
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw err;
    }
  }

  /** Entries whose modification time (their expiry, see put) is still ahead, without reading them. */
  async pendingCount(): Promise<number> {
    const names = await this.entries();
    const now = this.now();
    const pending = await Promise.all(
      names
        .filter((name) => name.endsWith('.json') && isSafeToken(name.slice(0, -5)))
        .map((name) => lstat(join(this.dir, name)).then((info) => info.isFile() && info.mtimeMs > now, () => false)),
    );
    return pending.filter(Boolean).length;
  }

  /**
   * Removes expired entries, damaged entries and stale temp files; returns how many went.
   * Pending entries are recognised by their modification time (the expiry) without being read.
   */
  async sweep(): Promise<number> {
    const names = await this.entries();
    const now = this.now();
    let removed = 0;
    for (const name of names) {
      const path = join(this.dir, name);
      const info = await lstat(path).catch(() => undefined);
      if (info === undefined) continue;
      let stale: boolean;
      if (isTempName(name)) {
        stale = info.mtimeMs < now - STALE_TEMP_MS;
      } else if (name.endsWith('.json') && isSafeToken(name.slice(0, -5)) && info.isFile()) {
        if (info.mtimeMs > now) continue;
        const entry = await this.read(name.slice(0, -5)).catch(() => undefined);
        stale = entry === undefined || entry.expiresAt <= now;
      } else {
        continue; // not ours: leave it alone
      }
      if (stale && (await unlink(path).then(() => true, () => false))) removed += 1;
    }
    return removed;
  }

  private maybeSweep(): void {
    if (this.sweepIntervalMs <= 0 || this.sweeping !== undefined) return;
    if (this.now() - this.lastSweep < this.sweepIntervalMs) return;
    this.lastSweep = this.now();
    // Housekeeping must never fail or delay a publication.
    this.sweeping = this.sweep()
      .catch(() => 0)
      .finally(() => {
        this.sweeping = undefined;
      });
  }

  /** The names in the folder; none before the first token was put. */
  private async entries(): Promise<string[]> {
    try {
      return await readdir(this.dir);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return [];
      throw err;
    }
  }

  private file(token: string): string {
    return join(this.dir, `${token}.json`);
  }

  private async ensureDir(): Promise<void> {
    try {
      await ensureDir(this.dir, DIR_MODE);
    } catch (err) {
      throw new CertmanError(`cannot create the token store ${this.dir}: ${messageOf(err)}`, { cause: err });
    }
  }

  /** The entry for a valid token, or undefined if missing, not a plain file, too big or malformed. */
  private async read(token: string): Promise<TokenEntry | undefined> {
    let handle;
    try {
      // O_NOFOLLOW: a symlink planted in the folder is never followed out of it.
      handle = await open(this.file(token), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      const code = errorCode(err);
      if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR') return undefined;
      throw err;
    }
    try {
      const info = await handle.stat();
      if (!info.isFile() || info.size > MAX_ENTRY_BYTES) return undefined;
      return parseTokenEntry(await handle.readFile('utf8'), token);
    } finally {
      await handle.close();
    }
  }
}

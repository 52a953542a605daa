/**
 * Where the filesystem store keeps each thing (see file-store.ts for the whole layout), the modes it writes
 * them with, and the small filesystem helpers its modules share.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

import { CertmanError, messageOf } from '../../errors.js';
import { errorCode, fsErrorHint } from './atomic.js';
import { CorruptFileError } from './meta.js';
import { serverKey, validateName } from './names.js';

/** The four PEM files of every version, in the order they are written and linked. */
export const PEM_KINDS = ['cert', 'chain', 'fullchain', 'privkey'] as const;
export type PemKind = (typeof PEM_KINDS)[number];

export const FILE_PUBLIC = 0o644;
export const FILE_SECRET = 0o600;
export const DIR_PUBLIC = 0o755;
export const DIR_SECRET = 0o700;

/** The two slot folders beside live/<name>; live/<name> links to the one holding the live version. */
export const SLOTS = ['a', 'b'] as const;
export type Slot = (typeof SLOTS)[number];

export function slotName(name: string, slot: Slot): string {
  return `.${name}.${slot}`;
}

/** The paths of one config directory. Names given to it are valid lineage names (names.ts). */
export class FsLayout {
  readonly archiveRoot: string;
  readonly liveRoot: string;
  readonly renewalRoot: string;
  readonly accountsRoot: string;
  readonly pendingRoot: string;

  constructor(readonly configDir: string) {
    this.archiveRoot = path.join(configDir, 'archive');
    this.liveRoot = path.join(configDir, 'live');
    this.renewalRoot = path.join(configDir, 'renewal');
    this.accountsRoot = path.join(configDir, 'accounts');
    this.pendingRoot = path.join(configDir, '.pending');
  }

  archiveDir(name: string): string {
    return path.join(this.archiveRoot, name);
  }

  /** live/<name>, the folder web servers read; validates the name (it may come from a user). */
  liveDir(name: string): string {
    return path.join(this.liveRoot, validateName(name));
  }

  slotDir(name: string, slot: Slot): string {
    return path.join(this.liveRoot, slotName(name, slot));
  }

  renewalFile(name: string): string {
    return path.join(this.renewalRoot, `${name}.json`);
  }

  journalFile(name: string): string {
    return path.join(this.pendingRoot, name);
  }

  accountDir(server: string): string {
    return path.join(this.accountsRoot, ...serverKey(server).split('/'));
  }
}

/** A file that could not be read (permissions, I/O), reported like a damaged one but saying so. */
export function unreadable(file: string, err: unknown): CorruptFileError {
  const reason = messageOf(err);
  const hint = fsErrorHint(err);
  return new CorruptFileError(file, reason, { message: `cannot read ${file}: ${reason}`, ...(hint === undefined ? {} : { hint }) });
}

/** A CertmanError for a failed filesystem step: `action` plus the cause, with a hint when it is obvious. */
export function ioError(action: string, err: unknown): CertmanError {
  if (err instanceof CertmanError) return err;
  return new CertmanError(`${action}: ${messageOf(err)}`, { cause: err, hint: fsErrorHint(err) });
}

export async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return [];
    throw err;
  }
}

export async function isDirectory(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isDirectory();
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw err;
  }
}

/** Sorts by `name`, as every listing the store returns is. */
export function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

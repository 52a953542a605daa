/**
 * Small JSON documents kept between runs (failure budget, schedule), one file per key:
 *
 *   <configDir>/state/<key>.json     keys are [a-z0-9-]+ so a key is always one plain file name
 *
 * Written with writeFileAtomic(), so a reader sees the previous or the new document, never a mix.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

import { CertmanError, messageOf } from '../../errors.js';
import { ensureDir, errorCode, fsErrorHint, removeAbandonedTemps, writeFileAtomic } from './atomic.js';
import { CorruptFileError } from './meta.js';

/** Folder of the state documents, under the config directory. */
export const STATE_DIR = 'state';
const KEY_PATTERN = /^[a-z0-9-]+$/;
/** Keeps `<key>.json` and its temp names far below NAME_MAX. */
const MAX_KEY_LENGTH = 200;
const DIR_MODE = 0o755;
const FILE_MODE = 0o644;

export function isValidStateKey(key: string): boolean {
  return key.length <= MAX_KEY_LENGTH && KEY_PATTERN.test(key);
}

/** Returns `key`, or throws a CertmanError for a key outside [a-z0-9-]+ (or too long). */
export function validateStateKey(key: string): string {
  if (!isValidStateKey(key)) {
    throw new CertmanError(`invalid state key ${JSON.stringify(key)}: use lowercase letters, digits and "-"`);
  }
  return key;
}

/** Path of the document for `key`; throws a CertmanError for a key outside [a-z0-9-]+. */
export function stateFilePath(configDir: string, key: string): string {
  return path.join(configDir, STATE_DIR, `${validateStateKey(key)}.json`);
}

function stateError(action: string, err: unknown): CertmanError {
  if (err instanceof CertmanError) return err;
  return new CertmanError(`${action}: ${messageOf(err)}`, { cause: err, hint: fsErrorHint(err) });
}

/**
 * The document stored under `key`, undefined if there is none. A file that is not JSON throws a
 * {@link CorruptFileError} (a CertmanError) naming it. The shape is the caller's to check.
 */
export async function readState<T>(configDir: string, key: string): Promise<T | undefined> {
  const file = stateFilePath(configDir, key);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw stateError(`cannot read ${file}`, err);
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new CorruptFileError(file, `not valid JSON (${messageOf(err)})`);
  }
}

/** Replaces the document stored under `key` atomically (creating state/ on first use). */
export async function writeState(configDir: string, key: string, value: unknown): Promise<void> {
  const file = stateFilePath(configDir, key);
  let text: string | undefined;
  try {
    text = JSON.stringify(value, null, 2);
  } catch (err) {
    throw stateError(`cannot store state "${key}"`, err);
  }
  if (text === undefined) throw new CertmanError(`cannot store state "${key}": the value is not representable as JSON`);
  try {
    const dir = path.dirname(file);
    await ensureDir(dir, DIR_MODE);
    await removeAbandonedTemps(dir, await readdir(dir));
    await writeFileAtomic(file, `${text}\n`, FILE_MODE);
  } catch (err) {
    throw stateError(`cannot write ${file}`, err);
  }
}

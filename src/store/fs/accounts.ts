/**
 * ACME accounts of the filesystem store: accounts/<server-key>/{account.json,private_key.pem}, one per
 * ACME directory, in folders of mode 0700.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';

import type { StoredAccount } from '../types.js';
import { ensureDir, errorCode, readTextIfPresent, removeAbandonedTemps, writeFileAtomic } from './atomic.js';
import { DIR_SECRET, FILE_PUBLIC, FILE_SECRET, ioError, type FsLayout } from './layout.js';
import { checkAccountToSave, parseAccount, serializeAccount } from './meta.js';
import { sameServer, serverKey } from './names.js';

/** The account for an ACME directory URL, or undefined (also if only half of it was ever written). */
export async function readAccount(layout: FsLayout, server: string): Promise<StoredAccount | undefined> {
  const dir = layout.accountDir(server);
  const jsonFile = path.join(dir, 'account.json');
  try {
    let text: string;
    let keyPem: string;
    try {
      text = await readFile(jsonFile, 'utf8');
      keyPem = await readFile(path.join(dir, KEY_FILE), 'utf8');
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return undefined;
      throw err;
    }
    const pendingKeyPem = await readTextIfPresent(path.join(dir, PENDING_KEY_FILE));
    const data = parseAccount(text, jsonFile);
    // Two URLs that differ only in characters the key escapes share a folder: not our account then.
    if (!sameServer(data.server, server)) return undefined;
    return { ...data, keyPem, ...(pendingKeyPem === undefined ? {} : { pendingKeyPem }) };
  } catch (err) {
    throw ioError(`cannot read the account in ${dir}`, err);
  }
}

const KEY_FILE = 'private_key.pem';
/** A key rollover's new key until the CA is known to hold it (StoredAccount.pendingKeyPem). */
const PENDING_KEY_FILE = 'private_key.pending.pem';

/**
 * Writes private_key.pem (0600), then the pending key (written, or removed when there is none), then account.json,
 * each atomically, in folders of mode 0700. A crash between two steps leaves a pending key equal to the stored key
 * at worst, which the rollover's settling step resolves like any other pending key.
 */
export async function writeAccount(layout: FsLayout, account: StoredAccount): Promise<void> {
  const key = serverKey(account.server);
  checkAccountToSave(account);
  let dir = layout.accountsRoot;
  try {
    await ensureDir(dir, DIR_SECRET);
    for (const segment of key.split('/')) {
      dir = path.join(dir, segment);
      await ensureDir(dir, DIR_SECRET);
    }
    await removeAbandonedTemps(dir, await readdir(dir));
    await writeFileAtomic(path.join(dir, KEY_FILE), account.keyPem, FILE_SECRET);
    if (account.pendingKeyPem !== undefined) await writeFileAtomic(path.join(dir, PENDING_KEY_FILE), account.pendingKeyPem, FILE_SECRET);
    else await rm(path.join(dir, PENDING_KEY_FILE), { force: true });
    await writeFileAtomic(path.join(dir, 'account.json'), serializeAccount(account), FILE_PUBLIC);
  } catch (err) {
    throw ioError(`cannot save the account in ${dir}`, err);
  }
}

/**
 * Everything a filesystem store keeps, for moving it elsewhere (`certman store migrate`): every version in
 * archive/<name>/ and every account under accounts/. Reads only.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

import type { CertificateFiles } from '../../lineage/types.js';
import type { StoredAccount, StoredVersion } from '../types.js';
import { readAccount } from './accounts.js';
import { errorCode } from './atomic.js';
import { ioError, PEM_KINDS, readdirOrEmpty, type FsLayout } from './layout.js';
import { parseAccount } from './meta.js';
import { completeVersions } from './write-lineage.js';

/** The complete versions in archive/<name>/, oldest first. */
export async function readArchiveVersions(layout: FsLayout, name: string): Promise<StoredVersion[]> {
  const dir = layout.archiveDir(name);
  try {
    const numbers = [...completeVersions(await readdirOrEmpty(dir))].sort((a, b) => a - b);
    return await Promise.all(
      numbers.map(async (version) => {
        const texts = await Promise.all(PEM_KINDS.map((kind) => readFile(path.join(dir, `${kind}${version}.pem`), 'utf8')));
        const files = Object.fromEntries(PEM_KINDS.map((kind, i) => [kind, texts[i]])) as unknown as CertificateFiles;
        return { version, files };
      }),
    );
  } catch (err) {
    throw ioError(`cannot read the versions of certificate "${name}" in ${dir}`, err);
  }
}

/** Every account under accounts/ (a folder per server key, which may nest), found by its account.json. */
export async function readAllAccounts(layout: FsLayout): Promise<StoredAccount[]> {
  const accounts: StoredAccount[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return;
      throw ioError(`cannot read ${dir}`, err);
    }
    for (const entry of entries) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(file);
      else if (entry.name === 'account.json') {
        const { server } = parseAccount(await readFile(file, 'utf8'), file);
        const account = await readAccount(layout, server);
        if (account !== undefined) accounts.push(account);
      }
    }
  };
  await walk(layout.accountsRoot);
  return accounts;
}

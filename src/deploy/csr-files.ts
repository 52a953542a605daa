/**
 * Where `issue --csr` writes the certificate, as certbot's `certonly --csr` does: --cert-path, --chain-path and
 * --fullchain-path when given (a file that exists is never overwritten: exit 2 before the order), otherwise
 * certbot's defaults in the current folder, numbered so nothing is overwritten: cert.pem → 0000_cert.pem,
 * chain.pem → 0000_chain.pem, and the full chain, whose default is chain.pem too, → 0001_chain.pem.
 */
import { lstat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CertmanError, messageOf, UsageError } from '../errors.js';
import { createFileAtomic, errorCode } from '../store/fs/atomic.js';
import { checkCopyPaths, PATH_FLAGS } from './to-paths.js';

export type CsrFileKind = 'cert' | 'chain' | 'fullchain';
export type CsrPaths = Partial<Record<CsrFileKind, string>>;

const DEFAULT_NAMES: Record<CsrFileKind, string> = { cert: 'cert.pem', chain: 'chain.pem', fullchain: 'chain.pem' };
const KINDS: CsrFileKind[] = ['cert', 'chain', 'fullchain'];
/** certbot numbers 0000 to 9999. */
const MAX_NUMBERED = 10_000;

/** Before the order: a path given must be new, and pass the copies' checks (see checkCopyPaths). */
export async function checkCsrPaths(paths: CsrPaths, keepOut: readonly string[]): Promise<void> {
  for (const kind of KINDS) {
    const path = paths[kind];
    if (path === undefined) continue;
    if (await lstat(path).then(() => true, () => false)) throw new UsageError(`${PATH_FLAGS[kind]} ${path} exists; with --csr certman writes only new files`, 'choose another path or move the old file away');
  }
  await checkCopyPaths(paths, keepOut);
}

/** Writes the three files (0644) and returns where each went. */
export async function writeCsrFiles(pems: Record<CsrFileKind, string>, paths: CsrPaths, cwd: string): Promise<Record<CsrFileKind, string>> {
  const written = {} as Record<CsrFileKind, string>;
  for (const kind of KINDS) {
    const given = paths[kind];
    try {
      written[kind] = given === undefined ? await createNumbered(join(resolve(cwd), DEFAULT_NAMES[kind]), pems[kind]) : (await createFileAtomic(given, pems[kind], 0o644), given);
    } catch (err) {
      throw new CertmanError(`could not write the ${kind === 'fullchain' ? 'full chain' : kind} to ${given ?? cwd}: ${messageOf(err)}`, { cause: err });
    }
  }
  return written;
}

/** `<dir>/NNNN_<name>` with the first number not taken. */
async function createNumbered(path: string, data: string): Promise<string> {
  for (let n = 0; n < MAX_NUMBERED; n++) {
    const candidate = join(dirname(path), `${String(n).padStart(4, '0')}_${basename(path)}`);
    try {
      await createFileAtomic(candidate, data, 0o644);
      return candidate;
    } catch (err) {
      if (errorCode(err) !== 'EEXIST') throw err;
    }
  }
  throw new CertmanError(`every name from 0000_${basename(path)} to 9999_${basename(path)} is taken in ${dirname(path)}`);
}

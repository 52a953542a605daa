/**
 * Where `issue --csr` writes the certificate, as certbot's `certonly --csr` does: --cert-path, --chain-path and
 * --fullchain-path when given (a file that exists is never overwritten: exit 2 before the order), otherwise
 * certbot's defaults in the current folder, numbered so nothing is overwritten: cert.pem → 0000_cert.pem,
 * chain.pem → 0000_chain.pem, and the full chain, whose default is chain.pem too, → 0001_chain.pem.
 */
import { lstat, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { CertmanError, messageOf, UsageError } from '../errors.js';
import { createFileAtomic, errorCode } from '../store/fs/atomic.js';
import { checkCopyPaths, PATH_FLAGS } from './to-paths.js';

export type CsrFileKind = 'cert' | 'chain' | 'fullchain';
export type CsrPaths = Partial<Record<CsrFileKind, string>>;

const DEFAULT_NAMES: Record<CsrFileKind, string> = { cert: 'cert.pem', chain: 'chain.pem', fullchain: 'chain.pem' };
const KINDS: CsrFileKind[] = ['cert', 'chain', 'fullchain'];
const LABELS: Record<CsrFileKind, string> = { cert: 'certificate', chain: 'chain', fullchain: 'full chain' };
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

/**
 * Writes the three files (0644) and returns where each went. The certificate is never stored elsewhere, so when a
 * write fails the error says what was written, and if the full chain is not among it, it is saved to a new folder
 * in the system's temp dir rather than lost.
 */
export async function writeCsrFiles(pems: Record<CsrFileKind, string>, paths: CsrPaths, cwd: string): Promise<Record<CsrFileKind, string>> {
  const written: Partial<Record<CsrFileKind, string>> = {};
  for (const kind of KINDS) {
    const given = paths[kind];
    try {
      written[kind] = given === undefined ? await createNumbered(join(resolve(cwd), DEFAULT_NAMES[kind]), pems[kind]) : (await createFileAtomic(given, pems[kind], 0o644), given);
    } catch (err) {
      throw new CertmanError(`could not write the ${LABELS[kind]} to ${given ?? cwd}: ${messageOf(err)}; ${await keptAfterFailure(written, pems.fullchain)}`, { cause: err });
    }
  }
  return written as Record<CsrFileKind, string>;
}

async function keptAfterFailure(written: Partial<Record<CsrFileKind, string>>, fullchain: string): Promise<string> {
  const list = KINDS.filter((kind) => written[kind] !== undefined).map((kind) => `the ${LABELS[kind]} to ${written[kind] ?? ''}`);
  if (written.fullchain !== undefined) return `written: ${list.join(', ')}`;
  try {
    const rescued = join(await mkdtemp(join(tmpdir(), 'certman-csr-')), 'fullchain.pem');
    await createFileAtomic(rescued, fullchain, 0o644);
    list.push(`the full chain (certificate and chain) to ${rescued}`);
  } catch (err) {
    return `${list.length === 0 ? 'nothing was written' : `written: ${list.join(', ')}`}, and saving the full chain to the temp dir failed too (${messageOf(err)}): run again to order another certificate`;
  }
  return `written: ${list.join(', ')}`;
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

/**
 * StrictModes for the store's own files: renewal/<name>.json names the hooks `renew` runs, and a journal in
 * .pending/ carries metadata (hooks included) that recovery writes back to renewal/. When certman runs as
 * root, whoever can change one of those chooses what root runs, so such a file is only used when root owns
 * it and no one else may write it. The folders are checked once per run with the config (config/permissions.ts),
 * the files here as they are read, on the open descriptor: the system calls of a plain read, and no window
 * between the check and the read.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';

import { fixFor, othersCanChange } from '../../config/permissions.js';
import { CorruptFileError } from './meta.js';

/** A store file another user could have written, refused as if it were damaged (the file is left as it is). */
export class UntrustedFileError extends CorruptFileError {
  constructor(file: string, problem: string, owner: number) {
    const reason = `${problem}: certman running as ${owner === 0 ? 'root' : `uid ${owner}`} does not use it (fix: ${fixFor(problem, file, owner)})`;
    super(file, reason, {
      message: `${file} ${reason}`,
      hint: 'It chooses commands certman runs: only the user certman runs as may own it and write to it.',
    });
  }
}

/**
 * The text of `file`. With `trustedOwner`, an UntrustedFileError unless that user owns the file and neither
 * its group nor others may write it. ENOENT and other read errors are thrown as they are.
 */
export function readTrustedFileSync(file: string, trustedOwner: number | undefined): string {
  if (trustedOwner === undefined) return readFileSync(file, 'utf8');
  const fd = openSync(file, 'r');
  try {
    const info = fstatSync(fd);
    const problem = othersCanChange(info, { owner: trustedOwner });
    if (problem !== undefined) throw new UntrustedFileError(file, problem, trustedOwner);
    return readAll(fd, info.size);
  } finally {
    closeSync(fd);
  }
}

/**
 * `size` bytes of `fd` (fewer at an early end) as UTF-8, trusting the size fstat gave as readFileSync does:
 * store files are replaced by rename, never written in place. readFileSync(fd) would fstat a second time.
 */
function readAll(fd: number, size: number): string {
  const buffer = Buffer.allocUnsafe(size);
  let length = 0;
  for (let got = -1; got !== 0 && length < size; length += got) got = readSync(fd, buffer, length, size - length, null);
  return buffer.toString('utf8', 0, length);
}

/**
 * Store keys as operators write them: 32 raw bytes (`openssl rand 32 > store.key`), or text of 64 hex digits
 * (`openssl rand -hex 32`) or base64 (`openssl rand -base64 32`). A text may hold several keys, one per line:
 * the first seals, the others still open what was sealed under them (a rotation in progress).
 */
import { UsageError } from '../errors.js';

const KEY_BYTES = 32;
const HINT = 'make one with: openssl rand -hex 32';

/** The keys in `data`, first the one to seal with; a UsageError naming `source` when it holds none or a bad one. */
export function parseStoreKeys(data: Buffer, source: string): Buffer[] {
  if (data.length === KEY_BYTES && !/^[\x21-\x7e]+$/.test(data.toString('latin1'))) return [Buffer.from(data)];
  const lines = data
    .toString('utf8')
    .split(/[\r\n,]+/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (lines.length === 0) throw new UsageError(`${source} holds no store key`, HINT);
  return lines.map((line, i) => {
    const key = /^[0-9a-f]{64}$/i.test(line) ? Buffer.from(line, 'hex') : /^[A-Za-z0-9+/_-]{43}=?$/.test(line) ? Buffer.from(line, 'base64') : undefined;
    if (key === undefined || key.length !== KEY_BYTES) {
      throw new UsageError(`${source}: key ${i + 1} is not 32 bytes as 64 hex digits or base64`, HINT);
    }
    return key;
  });
}

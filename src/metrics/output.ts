/**
 * `metrics --output`: the file node_exporter's textfile collector reads, replaced in one rename so the collector
 * never reads half of it. Temp files sit next to it under a name without `.prom` (the collector ignores them);
 * those of writers that were killed are removed on the next write.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { CertmanError, UsageError, messageOf } from '../errors.js';
import { errorCode, fsErrorHint, removeAbandonedTemps, writeFileAtomic } from '../store/fs/atomic.js';

/** Metrics hold no secret: readable by the collector whichever user it runs as. */
const FILE_MODE = 0o644;

/** Writes `text` to `file` atomically; the absolute path written. */
export async function writeMetricsFile(file: string, text: string): Promise<string> {
  const target = path.resolve(file);
  const dir = path.dirname(target);
  try {
    await removeAbandonedTemps(dir, await readdir(dir));
    await writeFileAtomic(target, text, FILE_MODE);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UsageError(`--output ${file}: no such folder ${dir}`, 'create it first, or name another file');
    if (code === 'EISDIR') throw new UsageError(`--output ${file} is a folder`, 'name a file in it, such as certman.prom');
    throw new CertmanError(`cannot write the metrics to ${target}: ${messageOf(err)}`, { hint: fsErrorHint(err) ?? 'check the folder and its permissions', cause: err });
  }
  return target;
}

// A folder's whole state, for "nothing changed" assertions: every path with its type, mode, owner, and
// its content (files) or target (symlinks).
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** One line per entry under `root` (root itself included as "."), sorted; compare two with deepEqual. */
export async function snapshotTree(root: string): Promise<string[]> {
  const lines: string[] = [];
  const walk = async (path: string): Promise<void> => {
    const st = await lstat(path);
    const name = relative(root, path) || '.';
    const head = `${name} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
    if (st.isSymbolicLink()) lines.push(`${head} -> ${await readlink(path)}`);
    else if (st.isFile()) lines.push(`${head} file ${createHash('sha256').update(await readFile(path)).digest('hex')}`);
    else if (st.isDirectory()) {
      lines.push(`${head} dir`);
      for (const entry of await readdir(path)) await walk(join(path, entry));
    } else lines.push(`${head} other`);
  };
  await walk(root);
  return lines.sort();
}

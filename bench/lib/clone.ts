// Copies of one real lineage under new names, for no-op renew benchmarks over large stores. Works on any
// tool's layout: every file, folder or link whose name contains the lineage's name belongs to it
// (certbot and certman: renewal/<name>.*, live/<name>/, archive/<name>/; lego: certificates/<name>.*),
// and the name and the store's own path are replaced inside files and link targets too.
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

interface Entry {
  /** Path relative to the store. */
  rel: string;
  kind: 'dir' | 'file' | 'link';
  mode: number;
  /** File content or link target. */
  text: string;
}

/** The lineage `name` of the store at `root`, parents before children. */
export function readLineage(root: string, name: string): Entry[] {
  const entries: Entry[] = [];
  const walk = (dir: string, inLineage: boolean): void => {
    for (const base of readdirSync(dir).sort()) {
      const path = join(dir, base);
      const stat = lstatSync(path);
      const mine = inLineage || base.includes(name);
      const rel = relative(root, path);
      if (stat.isDirectory()) {
        if (mine) entries.push({ rel, kind: 'dir', mode: stat.mode & 0o7777, text: '' });
        walk(path, mine);
      } else if (mine && stat.isSymbolicLink()) {
        entries.push({ rel, kind: 'link', mode: 0, text: readlinkSync(path) });
      } else if (mine && stat.isFile()) {
        entries.push({ rel, kind: 'file', mode: stat.mode & 0o7777, text: readFileSync(path, 'utf8') });
      }
    }
  };
  walk(root, false);
  if (!entries.some((e) => e.kind === 'file')) throw new Error(`no lineage named ${name} in ${root}`);
  return entries;
}

/** Writes the lineage again as `copy` in the store at `toRoot` (read from the store at `fromRoot`). */
export function writeCopy(lineage: Entry[], from: { root: string; name: string }, toRoot: string, copy: string): void {
  const swap = (s: string): string => s.replaceAll(from.root, toRoot).replaceAll(from.name, copy);
  for (const entry of lineage) {
    const path = join(toRoot, entry.rel.replaceAll(from.name, copy));
    if (entry.kind === 'dir') {
      mkdirSync(path, { recursive: true, mode: entry.mode });
      continue;
    }
    mkdirSync(dirname(path), { recursive: true });
    if (entry.kind === 'link') symlinkSync(swap(entry.text), path);
    else writeFileSync(path, swap(entry.text), { mode: entry.mode });
  }
}

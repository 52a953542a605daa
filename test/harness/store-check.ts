// Checks a certman config dir from the outside (plain file reads, none of certman's code), for suites that
// hurt certman (kill -9, faults, full disks) and then want to know that nothing stored was damaged.
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';

const PEM_KINDS = ['cert', 'chain', 'fullchain', 'privkey'] as const;
const TEMP_PREFIX = '.certman-tmp-';

export interface StoreCheckOptions {
  /** Certificates that must be there. Default: every renewal/<name>.json. */
  names?: string[];
  /**
   * Right after certman was killed: a journal in .pending/, the dead run's lock file and temp files are
   * leftovers the next run repairs, and the metadata of a certificate with a journal may be a version
   * ahead of live/. live/ must still be complete and matching.
   */
  afterCrash?: boolean;
}

async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The PEM blocks of a file, each with its BEGIN and END lines. */
function pemBlocks(text: string): string[] {
  return text.match(/-----BEGIN [^-]+-----[\s\S]*?-----END [^-]+-----/g) ?? [];
}

/**
 * The path `rel` (under `base`) leads to once every symbolic link in it is followed, resolved by hand below
 * `base` (realpath() cannot see through /proc/<pid>/root, where a test's namespaced mount lives).
 */
async function followLinks(base: string, rel: string): Promise<string> {
  let current = base;
  const rest = rel.split(sep).filter(Boolean);
  for (let hops = 0; rest.length > 0; ) {
    const next = join(current, rest.shift() ?? '');
    if (!(await lstat(next)).isSymbolicLink()) {
      current = next;
      continue;
    }
    if (++hops > 40) throw new Error(`too many links in ${join(base, rel)}`);
    const target = await readlink(next);
    if (isAbsolute(target)) throw new Error(`${next} links to the absolute path ${target}`);
    rest.unshift(...target.split(sep).filter(Boolean));
  }
  return current;
}

/** What is wrong with live/<name>: the four files, their versions, the key, and the metadata. */
async function certificateProblems(configDir: string, name: string, options: StoreCheckOptions): Promise<string[]> {
  const problems: string[] = [];
  const live = join(configDir, 'live', name);
  const text: Partial<Record<(typeof PEM_KINDS)[number], string>> = {};
  const versions = new Set<string>();
  for (const kind of PEM_KINDS) {
    const file = join(live, `${kind}.pem`);
    try {
      const target = await followLinks(configDir, relative(configDir, file));
      const found = /^([a-z]+)([1-9][0-9]*)\.pem$/.exec(basename(target));
      if (dirname(target) !== join(configDir, 'archive', name) || found?.[1] !== kind) {
        problems.push(`${file} resolves to ${target}, not into archive/${name}/`);
      }
      if (found?.[2] !== undefined) versions.add(found[2]);
      text[kind] = await readFile(file, 'utf8');
    } catch (err) {
      problems.push(`${file} does not resolve: ${(err as Error).message}`);
    }
  }
  if (versions.size > 1) problems.push(`live/${name}/ mixes archive versions ${[...versions].sort().join(', ')}`);
  const { cert, chain, fullchain, privkey } = text;
  if (cert === undefined || chain === undefined || fullchain === undefined || privkey === undefined) return problems;
  try {
    const x509 = new X509Certificate(cert);
    if (!x509.checkPrivateKey(createPrivateKey(privkey))) problems.push(`live/${name}/cert.pem does not match privkey.pem`);
    const blocks = pemBlocks(fullchain);
    if (blocks[0]?.trim() !== cert.trim()) problems.push(`live/${name}/fullchain.pem does not start with cert.pem`);
    if (blocks.slice(1).join('\n') !== pemBlocks(chain).join('\n')) problems.push(`live/${name}/fullchain.pem is not cert.pem + chain.pem`);
    const meta = await metaOf(configDir, name);
    const liveVersion = Number([...versions][0]);
    if (meta === undefined) problems.push(`renewal/${name}.json is missing or not a certificate's metadata`);
    else if (meta.version !== liveVersion || BigInt(`0x${meta.serial}`) !== BigInt(`0x${x509.serialNumber}`)) {
      const journal = (await entries(join(configDir, '.pending'))).includes(name);
      if (!(options.afterCrash === true && journal)) {
        problems.push(`renewal/${name}.json names version ${meta.version} (serial ${meta.serial}), live/ has ${liveVersion} (serial ${x509.serialNumber})`);
      }
    }
  } catch (err) {
    problems.push(`live/${name}/ cannot be parsed: ${(err as Error).message}`);
  }
  return problems;
}

async function metaOf(configDir: string, name: string): Promise<{ version: number; serial: string } | undefined> {
  try {
    const data = JSON.parse(await readFile(join(configDir, 'renewal', `${name}.json`), 'utf8')) as Record<string, unknown>;
    const { version, serial } = data;
    if (data.name !== name || typeof version !== 'number' || typeof serial !== 'string' || !/^[0-9a-f]+$/i.test(serial)) return undefined;
    return { version, serial };
  } catch {
    return undefined;
  }
}

/** Lock files whose holder is gone, and leftovers of breaking one. */
async function lockProblems(configDir: string): Promise<string[]> {
  const problems: string[] = [];
  const dir = join(configDir, '.locks');
  for (const entry of await entries(dir)) {
    const file = join(dir, entry);
    if (!entry.endsWith('.lock')) {
      problems.push(`leftover ${file}`);
      continue;
    }
    try {
      const holder = JSON.parse(await readFile(file, 'utf8')) as { pid: number; hostname: string };
      if (holder.hostname === hostname() && !pidRuns(holder.pid)) problems.push(`stale lock ${file} (pid ${holder.pid} is gone)`);
    } catch {
      problems.push(`unreadable lock ${file}`);
    }
  }
  return problems;
}

/** Temp files of interrupted atomic writes anywhere in the config dir. */
async function tempFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.name.startsWith(TEMP_PREFIX)) found.push(path);
    else if (entry.isDirectory()) found.push(...(await tempFiles(path)));
  }
  return found;
}

/**
 * Everything wrong with a config dir, one line each ([] when it is sound): every certificate's live/ set
 * resolves into its own archive folder, all four files of one version, its certificate matches its key,
 * fullchain = cert + chain, renewal/<name>.json names that version and serial; no journal in .pending/;
 * no lock file of a process that is gone; no temp files.
 */
export async function storeProblems(configDir: string, options: StoreCheckOptions = {}): Promise<string[]> {
  const listed = (await entries(join(configDir, 'renewal'))).filter((e) => e.endsWith('.json') && !e.startsWith('.')).map((e) => e.slice(0, -5));
  const names = options.names ?? listed;
  const problems: string[] = [];
  for (const name of names) {
    if (!listed.includes(name)) problems.push(`renewal/${name}.json is missing`);
    problems.push(...(await certificateProblems(configDir, name, options)));
  }
  if (options.afterCrash !== true) {
    for (const entry of await entries(join(configDir, '.pending'))) problems.push(`journal left in .pending/${entry}`);
    problems.push(...(await lockProblems(configDir)));
    problems.push(...(await tempFiles(configDir)).map((file) => `temp file left: ${relative(configDir, file)}`));
  }
  return problems;
}

/** Fails, listing every problem, unless {@link storeProblems} finds none. */
export async function assertStoreSound(configDir: string, options: StoreCheckOptions = {}): Promise<void> {
  const problems = await storeProblems(configDir, options);
  assert.deepEqual(problems, [], `the store in ${configDir} is damaged:\n${problems.join('\n')}`);
}

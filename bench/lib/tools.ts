// certman, certbot and lego driven the same way against one harness Pebble: HTTP-01 through each tool's
// own built-in server on Pebble's validation port, an account made before anything is timed, state in
// temp dirs. Each tool says how to run every benchmark step; bench/compare.ts times them.
import { spawnSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';

import { certmanBin, certmanEnv, cliEnv, tempDir, uniqueName, which, type PebbleEnv } from '../../test/harness/index.js';
import { readLineage, writeCopy } from './clone.js';
import { measure, type Command } from './measure.js';

export interface Tool {
  name: 'certman' | 'certbot' | 'lego';
  /** `--version`, started anew each time. */
  version(): Command;
  /** What `--version` printed, for the report. */
  versionText(): string;
  /** Registers an account and issues one certificate (untimed): the lineage the no-op stores copy. */
  prepare(): Promise<void>;
  /** Issues a certificate for `name` (a fresh name) with the account prepare() made. */
  issue(name: string): Command;
  /** Issues `count` certificates (untimed); returns the lanes of commands that renew them all. */
  prepareRenewAll(count: number): Promise<Command[][]>;
  /** How prepareRenewAll's lanes renew, for the report. */
  renewAllHow(count: number): string;
  /**
   * Grows a store of copies of prepare()'s lineage to `count` (counts only ever grow) and returns the
   * lanes of a renew over all of them, which finds nothing due.
   */
  noopRenew(count: number): Promise<Command[][]>;
  /** How noopRenew's lanes run, for the report. */
  noopHow(): string;
}

export interface ToolOptions {
  pebble: PebbleEnv;
  /** certbot processes at once renewing the due certificates, each over its own store. */
  certbotLanes: number;
  /** lego processes at once renewing the due certificates, one certificate per process. */
  legoLanes: number;
  /** Processes at once for lego's no-op renew (one process per certificate). */
  noopLanes: number;
}

const EMAIL = 'bench@example.com';

/** Debian package and program name of each tool other than certman. */
export const PACKAGES = { certbot: 'certbot', lego: 'lego' } as const;

/** Runs an untimed set-up step; throws with its output when it fails. */
async function must(command: Command, what: string): Promise<void> {
  const r = await measure(command, false);
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.output}`);
}

/** `count` fresh names, each resolving (through Pebble's DNS) to the loopback address of its lane. */
async function laneNames(pebble: PebbleEnv, label: string, count: number, lanes: number): Promise<string[][]> {
  const out: string[][] = Array.from({ length: Math.min(lanes, count) }, () => []);
  for (let i = 0; i < count; i += 1) {
    const name = uniqueName(`${label}${i}`);
    const lane = i % out.length;
    await pebble.addA(name, laneAddress(lane));
    out[lane]?.push(name);
  }
  return out;
}

/**
 * One built-in challenge server per process, all on Pebble's one validation port: each lane binds its own
 * loopback address (Linux routes all of 127/8 to lo) and its names resolve to it.
 */
function laneAddress(lane: number): string {
  return `127.0.0.${20 + lane}`;
}

/** Copy i of lineage `seed`: a valid, distinct name for every tool. */
const copyName = (seed: string, i: number): string => `c${i}-${seed}`;

/** Where prepare() left a tool's store (`root`) and the name of the certificate it issued there. */
interface Seed {
  root: string;
  name: string;
}

/**
 * A store of copies of the seed lineage (read when first asked for), made by `makeDir` on first use and
 * grown to each count asked for (counts only grow); resolves to the store's folder.
 */
function copyStore(makeDir: () => Promise<string>, seed: Seed): (count: number) => Promise<string> {
  let made = 0;
  let store: { dir: string; lineage: ReturnType<typeof readLineage> } | undefined;
  return async (count) => {
    if (count < made) throw new Error(`the store already holds ${made} copies, more than ${count}`);
    store ??= { dir: await makeDir(), lineage: readLineage(seed.root, seed.name) };
    for (; made < count; made += 1) writeCopy(store.lineage, seed, store.dir, copyName(seed.name, made));
    return store.dir;
  };
}

function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.trim().split('\n')[0] ?? '';
}

export function certmanTool({ pebble }: Pick<ToolOptions, 'pebble'>): Tool {
  const standalone = ['--standalone', '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1'];
  const run = (dir: string, args: string[]): Command => ({
    cmd: process.execPath,
    args: [certmanBin, ...args],
    env: cliEnv(certmanEnv(pebble, dir)),
  });
  const registered = async (): Promise<string> => {
    const dir = await tempDir('bench-certman');
    await must(run(dir, ['register', '--email', EMAIL, '--agree-tos']), 'certman register');
    return dir;
  };
  const seed: Seed = { root: '', name: '' };
  const noopStore = copyStore(() => tempDir('bench-certman-noop'), seed);
  return {
    name: 'certman',
    version: () => ({ cmd: process.execPath, args: [certmanBin, '--version'], env: cliEnv() }),
    versionText: () => `certman ${firstLine(process.execPath, [certmanBin, '--version'])} (node ${process.version})`,
    async prepare() {
      seed.root = await registered();
      seed.name = uniqueName('seed');
      await must(run(seed.root, ['issue', '-d', seed.name, ...standalone]), `certman issue ${seed.name}`);
    },
    issue: (name) => run(seed.root, ['issue', '-d', name, ...standalone]),
    async prepareRenewAll(count) {
      const dir = await registered();
      for (let i = 0; i < count; i += 1) {
        const name = uniqueName(`due${i}`);
        await must(run(dir, ['issue', '-d', name, ...standalone]), `certman issue ${name}`);
      }
      return [[run(dir, ['renew', '--force', '--no-random-sleep', '-q'])]];
    },
    renewAllHow: () => 'one `renew --force` (default concurrency)',
    noopRenew: async (count) => [[run(await noopStore(count), ['renew', '--no-random-sleep', '-q'])]],
    noopHow: () => 'one `renew`',
  };
}

export function certbotTool({ pebble, certbotLanes: lanes }: ToolOptions): Tool {
  const env = { ...process.env, REQUESTS_CA_BUNDLE: pebble.caFile } as Record<string, string>;
  const run = (dir: string, args: string[]): Command => ({
    cmd: 'certbot',
    args: [
      ...args,
      '-n',
      '--server', pebble.directoryUrl,
      '--config-dir', join(dir, 'config'),
      '--work-dir', join(dir, 'work'),
      '--logs-dir', join(dir, 'logs'),
    ],
    env,
  });
  const standalone = (address: string): string[] => ['--standalone', '--http-01-port', String(pebble.httpPort), '--http-01-address', address];
  const registered = async (): Promise<string> => {
    const dir = await tempDir('bench-certbot');
    await must(run(dir, ['register', '--agree-tos', '-m', EMAIL, '--no-eff-email']), 'certbot register');
    return dir;
  };
  const noRandomSleep = '--no-random-sleep-on-renew';
  const seed: Seed = { root: '', name: '' };
  const noopStore = copyStore(() => tempDir('bench-certbot-noop'), seed);
  return {
    name: 'certbot',
    version: () => ({ cmd: 'certbot', args: ['--version'], env }),
    versionText: () => firstLine('certbot', ['--version']),
    async prepare() {
      seed.root = await registered();
      seed.name = uniqueName('seed');
      await must(run(seed.root, ['certonly', ...standalone('127.0.0.1'), '-d', seed.name]), `certbot certonly ${seed.name}`);
    },
    issue: (name) => run(seed.root, ['certonly', ...standalone('127.0.0.1'), '-d', name]),
    async prepareRenewAll(count) {
      // certbot renews one lineage after another and locks its folders: parallel runs need one store each.
      const names = await laneNames(pebble, 'due', count, lanes);
      return Promise.all(
        names.map(async (lane, i) => {
          const dir = await registered();
          for (const name of lane) await must(run(dir, ['certonly', ...standalone(laneAddress(i)), '-d', name]), `certbot certonly ${name}`);
          return [run(dir, ['renew', '--force-renewal', noRandomSleep])];
        }),
      );
    },
    renewAllHow: (count) => {
      const n = Math.min(lanes, count);
      return `${n} \`renew --force-renewal\` processes at once, each over its own store of ${Math.ceil(count / n)}`;
    },
    noopRenew: async (count) => [[run(await noopStore(count), ['renew', noRandomSleep])]],
    noopHow: () => 'one `renew`',
  };
}

export function legoTool({ pebble, legoLanes: lanes, noopLanes }: ToolOptions): Tool {
  const env = { ...process.env, LEGO_CA_CERTIFICATES: pebble.caFile } as Record<string, string>;
  // Global options come before lego's command.
  const run = (dir: string, address: string, name: string, command: string[]): Command => ({
    cmd: 'lego',
    args: [
      '--server', pebble.directoryUrl,
      '--email', EMAIL,
      '--accept-tos',
      '--path', dir,
      '--http', '--http.port', `${address}:${pebble.httpPort}`,
      '-d', name,
      ...command,
    ],
    env,
  });
  const seed: Seed = { root: '', name: '' };
  /** A store holding the account prepare() registered (lego has no command that only registers). */
  const withAccount = async (label: string): Promise<string> => {
    const dir = await tempDir(label);
    cpSync(join(seed.root, 'accounts'), join(dir, 'accounts'), { recursive: true });
    return dir;
  };
  // lego renews one certificate per process, and only when it has fewer than --days left.
  const renew = (days: number): string[] => ['renew', '--days', String(days), '--no-random-sleep'];
  const noopStore = copyStore(() => withAccount('bench-lego-noop'), seed);
  return {
    name: 'lego',
    version: () => ({ cmd: 'lego', args: ['--version'], env }),
    versionText: () => `${firstLine('lego', ['--version'])} (Debian ${debianVersion('lego')})`,
    async prepare() {
      seed.root = await tempDir('bench-lego');
      seed.name = uniqueName('seed');
      await must(run(seed.root, '127.0.0.1', seed.name, ['run']), `lego run ${seed.name}`);
    },
    issue: (name) => run(seed.root, '127.0.0.1', name, ['run']),
    async prepareRenewAll(count) {
      const dir = await withAccount('bench-lego-due');
      const names = await laneNames(pebble, 'due', count, lanes);
      return Promise.all(
        names.map(async (lane, i) => {
          for (const name of lane) await must(run(dir, laneAddress(i), name, ['run']), `lego run ${name}`);
          // Pebble's certificates last 5 years: a --days above that makes every one due.
          return lane.map((name) => run(dir, laneAddress(i), name, renew(99_999)));
        }),
      );
    },
    renewAllHow: (count) => `${Math.min(lanes, count)} \`renew --days 99999\` processes at once, one per certificate`,
    async noopRenew(count) {
      const dir = await noopStore(count);
      const out: Command[][] = Array.from({ length: Math.min(noopLanes, count) }, () => []);
      for (let i = 0; i < count; i += 1) out[i % out.length]?.push(run(dir, '127.0.0.1', copyName(seed.name, i), renew(30)));
      return out;
    },
    noopHow: () => `\`renew -d <name>\` per certificate, ${noopLanes} processes at once`,
  };
}

function debianVersion(pkg: string): string {
  return firstLine('dpkg-query', ['-W', '-f', '${Version}', pkg]) || 'unknown';
}

/** The tools installed here, and a note with the apt-get line for each missing one. */
export function availableTools(options: ToolOptions, wanted: readonly string[]): { tools: Tool[]; notes: string[] } {
  const tools: Tool[] = [];
  const notes: string[] = [];
  if (wanted.includes('certman')) tools.push(certmanTool(options));
  for (const [name, make] of [['certbot', certbotTool], ['lego', legoTool]] as const) {
    if (!wanted.includes(name)) continue;
    if (which(PACKAGES[name]) === undefined) {
      notes.push(`${name} is not installed, so it is left out: sudo apt-get install -y ${PACKAGES[name]} (as root: bash scripts/ensure-deps.sh ${name})`);
    } else tools.push(make(options));
  }
  return { tools, notes };
}

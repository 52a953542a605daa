// A private Apache httpd (Debian's apache2 binary) with a test's virtual hosts, on loopback ports.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startDaemon } from './daemon.js';
import { which } from './proc.js';
import { tempDir } from './tmp.js';

export interface ApacheServer {
  /** The shell command that makes this Apache reload gracefully (re-reading certificates). */
  reloadCommand: string;
  stop(): Promise<void>;
}

const MODULES = ['mpm_event', 'authz_core', 'alias', 'socache_shmcb', 'ssl'];

/** `ports` are the ports the virtual hosts in `vhosts` listen on; the first one is probed for readiness. */
export async function startApache(options: { ports: number[]; vhosts: string; tlsPorts?: number[] }): Promise<ApacheServer> {
  const apache = which('apache2');
  if (apache === undefined) throw new Error('apache2 is not installed: apt-get install apache2 (or bash scripts/ensure-deps.sh apache)');
  const dir = await tempDir('apache');
  const conf = join(dir, 'httpd.conf');
  await writeFile(
    conf,
    [
      `ServerRoot ${dir}`,
      `PidFile ${join(dir, 'httpd.pid')}`,
      `ErrorLog ${join(dir, 'error.log')}`,
      'ServerName localhost',
      `DefaultRuntimeDir ${dir}`,
      ...MODULES.map((m) => `LoadModule ${m}_module /usr/lib/apache2/modules/mod_${m}.so`),
      'User nobody',
      'Group nogroup',
      ...options.ports.map((p) => `Listen 127.0.0.1:${p}`),
      ...(options.tlsPorts ?? []).map((p) => `Listen 127.0.0.1:${p} https`),
      options.vhosts,
      '',
    ].join('\n'),
  );
  const { stop } = await startDaemon({
    label: 'apache2',
    command: apache,
    args: ['-f', conf, '-DFOREGROUND'],
    dir,
    url: `http://127.0.0.1:${options.ports[0]}`,
    extraLog: () => readErrorLog(join(dir, 'error.log')),
  });
  return { reloadCommand: `'${apache}' -f '${conf}' -k graceful`, stop };
}

function readErrorLog(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

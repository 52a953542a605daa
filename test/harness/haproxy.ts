// A private HAProxy with a test's configuration, run in the foreground.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startDaemon, type Daemon } from './daemon.js';
import { which } from './proc.js';
import { tempDir } from './tmp.js';

/**
 * `config` holds the frontends and backends; `probeUrl` is a URL through it that some backend answers
 * quickly (a backend that is down makes HAProxy retry for seconds before its 503).
 */
export async function startHaproxy(options: { config: string; probeUrl: string }): Promise<Daemon> {
  const haproxy = which('haproxy');
  if (haproxy === undefined) throw new Error('haproxy is not installed: apt-get install haproxy (or bash scripts/ensure-deps.sh haproxy)');
  const dir = await tempDir('haproxy');
  const conf = join(dir, 'haproxy.cfg');
  await writeFile(conf, ['defaults', '    mode http', '    timeout connect 5s', '    timeout client 30s', '    timeout server 30s', '', options.config, ''].join('\n'));
  return startDaemon({ label: 'haproxy', command: haproxy, args: ['-f', conf, '-db'], dir, url: options.probeUrl });
}

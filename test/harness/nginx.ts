// A private nginx serving a directory as static files on 127.0.0.1:<port>,
// with every pid/log/temp path inside its own temp dir.
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { startDaemon } from './daemon.js';
import { which } from './proc.js';
import { tempDir } from './tmp.js';

export interface NginxOptions {
  port: number;
  /** Directory served as the document root (e.g. a webroot for HTTP-01). */
  root: string;
  /** How long to wait for it to answer. Default 10 000 ms. */
  startTimeoutMs?: number;
  /** Extra directives inside the plain-HTTP server block (e.g. a recipe's location block). */
  serverSnippet?: string;
  /** Extra server blocks (e.g. an HTTPS server using certman's live/ files). */
  extraServers?: string;
}

export interface NginxServer {
  /** http://127.0.0.1:<port> */
  url: string;
  pid: number;
  /** The temp dir with nginx.conf and logs (removed by stop()). */
  dir: string;
  /** error.log so far. */
  log(): string;
  /** access.log so far. */
  accessLog(): string;
  /** The shell command that makes this nginx reload its configuration and certificates. */
  reloadCommand: string;
  /** Stops nginx (and its workers) and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

function quote(path: string): string {
  return `"${path.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export async function startNginx(options: NginxOptions): Promise<NginxServer> {
  const nginx = which('nginx');
  if (nginx === undefined) {
    throw new Error('nginx is not installed: apt-get install nginx-light (or run: bash scripts/ensure-deps.sh nginx)');
  }
  const dir = await tempDir('nginx');
  const tempRoot = join(dir, 'temp');
  await mkdir(tempRoot);
  const errorLog = join(dir, 'error.log');
  const accessLog = join(dir, 'access.log');
  const runningAsRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const conf = [
    // Workers drop to "nobody" by default and could not read 0700 mkdtemp dirs.
    ...(runningAsRoot ? ['user root;'] : []),
    'worker_processes 1;',
    `pid ${quote(join(dir, 'nginx.pid'))};`,
    `error_log ${quote(errorLog)} info;`,
    'events { worker_connections 128; }',
    'http {',
    `  access_log ${quote(accessLog)};`,
    `  client_body_temp_path ${quote(join(tempRoot, 'body'))};`,
    `  proxy_temp_path ${quote(join(tempRoot, 'proxy'))};`,
    `  fastcgi_temp_path ${quote(join(tempRoot, 'fastcgi'))};`,
    `  uwsgi_temp_path ${quote(join(tempRoot, 'uwsgi'))};`,
    `  scgi_temp_path ${quote(join(tempRoot, 'scgi'))};`,
    '  default_type text/plain;',
    '  sendfile off;',
    '  server {',
    `    listen 127.0.0.1:${options.port};`,
    '    server_name _;',
    `    root ${quote(options.root)};`,
    '    location / { try_files $uri =404; }',
    ...(options.serverSnippet === undefined ? [] : [options.serverSnippet]),
    '  }',
    ...(options.extraServers === undefined ? [] : [options.extraServers]),
    '}',
    '',
  ].join('\n');
  const confFile = join(dir, 'nginx.conf');
  await writeFile(confFile, conf);

  const url = `http://127.0.0.1:${options.port}`;
  const { proc, stop } = await startDaemon({
    label: 'nginx',
    command: nginx,
    args: ['-p', dir, '-e', errorLog, '-c', confFile, '-g', 'daemon off;'],
    dir,
    url,
    extraLog: () => readText(errorLog),
    ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
  });

  return {
    url,
    pid: proc.pid,
    dir,
    reloadCommand: [nginx, '-p', dir, '-e', errorLog, '-c', confFile, '-s', 'reload'].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' '),
    log: () => readText(errorLog),
    accessLog: () => readText(accessLog),
    stop,
  };
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** A server block (for NginxOptions.extraServers) serving HTTPS on 127.0.0.1:`port` with a certificate's files, e.g. certman's live/<name>/. */
export function tlsServerBlock(options: { port: number; fullchain: string; privkey: string; serverName?: string }): string {
  return [
    '  server {',
    `    listen 127.0.0.1:${options.port} ssl;`,
    `    server_name ${options.serverName ?? '_'};`,
    `    ssl_certificate ${quote(options.fullchain)};`,
    `    ssl_certificate_key ${quote(options.privkey)};`,
    '    location / { return 200 "tls\\n"; }',
    '  }',
  ].join('\n');
}

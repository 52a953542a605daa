import type { Command } from 'commander';
import type { AccessEntry, ChallengeServer, Fallback, ListeningAddress } from '../../challenge/server/index.js';
import type { MetricsAddress, MetricsListener } from '../../metrics/listener.js';
import type { Store } from '../../store/index.js';
import { ExitCode, UsageError, messageOf } from '../../errors.js';
import type { CliContext } from '../context.js';
import { collect, parsePort, parsePositive } from '../parse.js';
import type { Runner } from '../program.js';
import type { CommandResult } from '../result.js';

interface ServeOptions {
  port: number;
  address?: string[];
  redirectHttps?: boolean;
  proxyTo?: string;
  user?: string;
  checkHost?: boolean;
  accessLog?: boolean;
  headerTimeout: number;
  requestTimeout: number;
  maxConnections: number;
  metricsAddress?: string[];
}

/** How long requests in flight get to finish after SIGTERM/SIGINT (a second signal cuts them at once). */
const GRACE_MS = 10_000;
/** How long a request waits for a network store (Redis) to tell about a token before it gets 503. */
const NETWORK_STORE_TIMEOUT_MS = 5000;
/** Access-log lines waiting for a slow stdout beyond this are dropped (and counted), not buffered forever. */
const MAX_LOG_BACKLOG = 4 * 1024 * 1024;
/** The store's metrics are computed at most this often, however often they are scraped (Redis is not hammered). */
const METRICS_CACHE_MS = 5000;

const HELP = `
Answers GET and HEAD /.well-known/acme-challenge/<token> with the key authorization of a token that
\`certman issue --responder\` or \`renew\` published in the store (--store; default: the config dir), and 404
for anything else. No other file is ever read. Runs until SIGTERM or SIGINT, then lets requests in
flight finish and exits 0.

Examples:
  certman serve-challenge                                   # port 80, every address, IPv4 and IPv6
  sudo certman serve-challenge --user www-data --access-log # bind port 80 as root, then drop root
  certman serve-challenge --port 8402 --address 127.0.0.1 --address ::1
  certman serve-challenge --redirect-https                  # any other path: 301 to https://<host><path>
  certman serve-challenge --proxy-to http://127.0.0.1:8080  # in front of an app: only the challenges are ours
  certman serve-challenge --metrics-address 127.0.0.1:9402  # Prometheus scrapes http://127.0.0.1:9402/metrics
  certman issue -d example.com --responder                  # publish to it (same --store or --config-dir)

Route the challenges of every site to it:
  nginx:    location /.well-known/acme-challenge/ {
              proxy_pass http://127.0.0.1:8402;
              proxy_set_header Host $host;   # needed with --check-host
            }
  HAProxy:  frontend http
              bind :80
              acl acme path_beg /.well-known/acme-challenge/
              use_backend certman if acme
            backend certman
              server responder 127.0.0.1:8402`;

export function defineServeChallenge(program: Command, run: Runner): void {
  const version = program.version() ?? 'unknown';
  program
    .command('serve-challenge')
    .description('run an HTTP-01 responder that answers the tokens issue/renew --responder publish (long-running)')
    .option('--port <port>', 'port to listen on', (v) => parsePort(v, '--port'), 80)
    .option('--address <ip>', 'address to listen on; repeatable (default: ::, which takes IPv6 and IPv4)', collect)
    .option('--redirect-https', 'answer other paths with 301 to https://<host><path>')
    .option('--proxy-to <url>', 'pass other requests to this origin (http:// or https://), streaming both ways')
    .option('--user <name>', 'drop root to this user (and its groups) once the ports are bound')
    .option('--check-host', "answer a token only when the Host header is the token's domain")
    .option('--access-log', 'print one line per request on stdout')
    .option('--header-timeout <ms>', 'request headers must arrive within this time (slowloris)', (v) => whole(v, '--header-timeout'), 10_000)
    .option('--request-timeout <ms>', 'the whole request, body included, must arrive within this time', (v) => whole(v, '--request-timeout'), 30_000)
    .option('--max-connections <n>', 'connections open at once; more are closed on arrival', (v) => whole(v, '--max-connections'), 4096)
    .option('--metrics-address <ip:port>', "also serve GET /metrics here: the store's metrics (as `certman metrics`) and the responder's counters; repeatable, IPv6 in brackets", collect)
    .addHelpText('after', HELP)
    .action(run((options: ServeOptions, ctx: CliContext) => serveChallenge(options, ctx, version)));
}

function whole(value: string, flag: string): number {
  const n = parsePositive(value, flag);
  if (!Number.isInteger(n)) throw new UsageError(`${flag} must be a whole number, not "${value}"`);
  return n;
}

function fallbackOf(options: ServeOptions): Fallback {
  if (options.redirectHttps === true && options.proxyTo !== undefined) throw new UsageError('--redirect-https and --proxy-to exclude each other');
  if (options.redirectHttps === true) return { kind: 'redirect-https' };
  if (options.proxyTo === undefined) return { kind: 'not-found' };
  let origin: URL;
  try {
    origin = new URL(options.proxyTo);
  } catch {
    throw new UsageError(`--proxy-to must be a URL such as http://127.0.0.1:8080, not "${options.proxyTo}"`);
  }
  if (origin.protocol !== 'http:' && origin.protocol !== 'https:') throw new UsageError(`--proxy-to must be an http:// or https:// URL, not "${options.proxyTo}"`);
  if (origin.username !== '' || origin.password !== '' || origin.search !== '' || origin.hash !== '') {
    throw new UsageError('--proxy-to takes scheme, host, port and an optional base path only');
  }
  return { kind: 'proxy', origin };
}

async function serveChallenge(options: ServeOptions, ctx: CliContext, version: string): Promise<CommandResult> {
  const fallback = fallbackOf(options);
  const { parseListenAddress } = await import('../listen-address.js');
  const metricsAddresses = (options.metricsAddress ?? []).map((value) => parseListenAddress(value, '--metrics-address'));
  // A failing store or listener would otherwise print once per request: one line per message per minute.
  const warned = new Map<string, number>();
  const warnSometimes = (message: string, hint = '') => {
    const last = warned.get(message);
    if (last !== undefined && Date.now() - last < 60_000) return;
    warned.set(message, Date.now());
    ctx.report.warn(`${message}${hint}`);
  };
  const addresses = options.address ?? [];
  const { isIP } = await import('node:net');
  for (const address of addresses) {
    if (isIP(address) === 0) throw new UsageError(`--address must be an IPv4 or IPv6 address, not "${address}"`);
  }
  const { ChallengeServer, dropPrivileges } = await import('../../challenge/server/index.js');
  const store = await ctx.openStore();
  const { tokens } = store;
  const log = options.accessLog === true ? new AccessLog(process.stdout) : undefined;
  const server = await ChallengeServer.start({
    tokens,
    port: options.port,
    addresses,
    fallback,
    checkHost: options.checkHost === true,
    headersTimeoutMs: options.headerTimeout,
    requestTimeoutMs: options.requestTimeout,
    maxConnections: options.maxConnections,
    // A network store may be unreachable: a token it cannot tell about within this gets 503, not a hung request.
    ...(store.liveLayout === undefined ? { storeTimeoutMs: NETWORK_STORE_TIMEOUT_MS } : {}),
    ...(log === undefined ? {} : { onAccess: (entry: AccessEntry) => log.write(entry) }),
    onStoreError: (err) => warnSometimes(`token store: ${messageOf(err)}`),
    onServerError: (err) => warnSometimes(`listener: ${err.message}`, ' (lower --max-connections or raise the open-files limit)'),
  });
  let metrics: MetricsListener | undefined;
  let user: string | undefined;
  try {
    // Bound before root is dropped, like the challenge ports.
    if (metricsAddresses.length > 0) metrics = await startMetrics(metricsAddresses, server, store, ctx, version, warnSometimes);
    if (options.user !== undefined) user = dropPrivileges(options.user).user;
  } catch (err) {
    await Promise.all([server.stop(0), metrics?.stop()]);
    throw err;
  }
  const stderr = (line: string) => {
    if (!ctx.flags.quiet) process.stderr.write(`${line}\n`);
  };
  const where = [...server.addresses.map(url), ...(metrics?.addresses.map((a) => `${url(a)}/metrics`) ?? [])].join(', ');
  stderr(`serve-challenge listening on ${where} (tokens from ${store.location}${user === undefined ? '' : `, running as ${user}`})`);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    let received: NodeJS.Signals | undefined;
    const onSignal = (sig: NodeJS.Signals) => {
      if (received !== undefined) {
        void server.stop(0); // a second signal: cut what is still running
        return;
      }
      received = sig;
      void metrics?.stop();
      void server.stop(GRACE_MS).then(() => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        resolve(sig);
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  log?.flush();
  const stats = server.stats();
  stderr(`serve-challenge stopped (${signal}): ${stats.requests} requests, ${stats.answered} challenges answered`);
  if (log !== undefined && log.dropped > 0) ctx.report.warn(`${log.dropped} access log lines were dropped: stdout could not keep up`);
  return {
    exitCode: ExitCode.OK,
    json: { stopped: signal, addresses: server.addresses.map(url), ...stats, ...(log === undefined ? {} : { accessLogDropped: log.dropped }) },
    human: () => [],
  };
}

/** The listener of --metrics-address: the store's metrics (computed at most every METRICS_CACHE_MS) and the responder's counters. */
async function startMetrics(
  addresses: MetricsAddress[],
  server: ChallengeServer,
  store: Store,
  ctx: CliContext,
  version: string,
  warnSometimes: (message: string) => void,
): Promise<MetricsListener> {
  const [{ MetricsListener }, { CachedText, storeFailedText, storeText }, { pendingTokensText, responderText }, { storeMetricsOptions }] = await Promise.all([
    import('../../metrics/listener.js'),
    import('../../metrics/store-text.js'),
    import('../../challenge/server/metrics.js'),
    import('../metrics-options.js'),
  ]);
  const storePart = new CachedText(async () => {
    const now = new Date();
    const texts = await Promise.all([
      storeText(store, storeMetricsOptions(ctx.settings, now), version).catch((err: unknown) => {
        warnSometimes(`metrics: the store could not be read: ${messageOf(err)}`);
        return storeFailedText(version, now);
      }),
      // Left out when the store cannot tell; certman_store_read_success says whether it could be read at all.
      pendingTokensText(store.tokens).catch(() => ''),
    ]);
    return texts.join('');
  }, METRICS_CACHE_MS);
  return MetricsListener.start({
    addresses,
    render: async () => `${await storePart.get()}${responderText(server)}`,
    onServerError: (err) => warnSometimes(`metrics listener: ${err.message}`),
  });
}

function url(a: ListeningAddress): string {
  return a.family === 'IPv6' ? `http://[${a.address}]:${a.port}` : `http://${a.address}:${a.port}`;
}

/** One line per request, written in batches; a reader that falls behind loses lines, not our memory. */
export class AccessLog {
  dropped = 0;
  private pending: string[] = [];
  /** Characters in `pending`: a flood answered within one event-loop turn counts before it is written. */
  private pendingLength = 0;
  private scheduled = false;

  constructor(private readonly out: NodeJS.WriteStream) {}

  write(entry: AccessEntry): void {
    if (this.out.writableLength + this.pendingLength > MAX_LOG_BACKLOG) {
      this.dropped += 1;
      return;
    }
    const line = formatAccess(entry);
    this.pending.push(line);
    this.pendingLength += line.length + 1;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    this.out.write(`${this.pending.join('\n')}\n`);
    this.pending = [];
    this.pendingLength = 0;
  }
}

/** `<time> <client> "<method> <target> HTTP/<v>" <status> <bytes> <ms>ms "<host>" "<user agent>"`, injection-safe. */
export function formatAccess(e: AccessEntry): string {
  const request = e.method === '-' ? '-' : `${e.method} ${e.url} HTTP/${e.httpVersion}`;
  return `${e.time.toISOString()} ${e.remoteAddress} "${clean(request)}" ${e.status} ${e.bytes} ${e.durationMs.toFixed(1)}ms "${clean(e.host ?? '-')}" "${clean(e.userAgent ?? '-')}"`;
}

/** Escapes quotes, backslashes and anything unprintable, and caps the length: log lines stay one line. */
function clean(text: string): string {
  const capped = text.length > 2048 ? `${text.slice(0, 2048)}…` : text;
  return capped.replace(/[^\x20-\x7e…]|["\\]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * DNS lookups for verify-dns and the DNS gate: classic DNS over UDP (TCP when the answer is truncated)
 * to nameservers named explicitly (default: the system's, from /etc/resolv.conf), or DNS over HTTPS
 * (RFC 8484). dns2 is loaded only when a resolver is created; its own defaults (public nameservers,
 * 10 s timeouts) are never used.
 *
 * Every query resolves to a DnsAnswer, never rejects: NXDOMAIN, SERVFAIL, a timeout and "no data" are
 * answers the verdict logic needs to tell apart.
 */
import { randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import { connect } from 'node:net';
import { UsageError } from '../errors.js';
import { isLoopbackHost } from './ip.js';
import { formatNameserver, parseNameserver, parseResolvConf, type Nameserver } from './nameserver.js';

export type QueryType = 'A' | 'AAAA' | 'CNAME' | 'CAA';

/** Owner names are lowercase without the trailing dot. */
export type DnsRecord =
  | { name: string; type: 'A' | 'AAAA'; address: string }
  | { name: string; type: 'CNAME'; target: string }
  | { name: string; type: 'CAA'; flags: number; tag: string; value: string };

/**
 * - `ok`: NOERROR with records (possibly only the CNAMEs leading elsewhere);
 * - `nodata`: NOERROR and an empty answer section;
 * - `nxdomain`: the name does not exist (records may hold the CNAMEs that led to the missing name);
 * - `servfail`, `refused`: the server's rcode; `timeout`: no answer in time (after the retry);
 * - `error`: anything else (network error, HTTP error from a DoH server, unparseable answer, other rcode).
 */
export type DnsStatus = 'ok' | 'nodata' | 'nxdomain' | 'servfail' | 'refused' | 'timeout' | 'error';

export interface DnsAnswer {
  status: DnsStatus;
  records: DnsRecord[];
  /** Which server answered (or failed), and for `error` what went wrong. */
  detail?: string;
}

export interface DnsResolver {
  /** `127.0.0.1:53, [::1]:53` or the DoH URL: for messages. */
  readonly label: string;
  query(name: string, type: QueryType): Promise<DnsAnswer>;
  /** Releases sockets kept for reuse (DoH keep-alive). */
  close(): void;
}

/** What to ask: nameservers (`ip[:port]`; none = the system's) or a DoH endpoint. */
export type ResolverSpec = { kind: 'dns'; servers: string[] } | { kind: 'doh'; url: string };

export interface ResolverTuning {
  /** Per attempt. Default 2000 ms. */
  timeoutMs?: number;
  /** Attempts after the first one that timed out or failed. Default 1. */
  retries?: number;
  /** DoH request method. Default GET (cache-friendly, RFC 8484 §4.1). */
  dohMethod?: 'GET' | 'POST';
}

export const DEFAULT_TIMEOUT_MS = 2000;
const DEFAULT_RETRIES = 1;
const MAX_RESPONSE_BYTES = 65_535;

type Dns2 = typeof import('dns2').default;
type Packet = InstanceType<Dns2['Packet']>;

/** Builds the resolver `spec` describes; throws UsageError for a bad server or URL. */
export async function createResolver(spec: ResolverSpec, tuning: ResolverTuning = {}): Promise<DnsResolver> {
  const timeoutMs = tuning.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const attempts = 1 + (tuning.retries ?? DEFAULT_RETRIES);
  if (spec.kind === 'doh') {
    const url = parseDohUrl(spec.url);
    const dns2 = await loadDns2();
    return new DohResolver(dns2, url, timeoutMs, attempts, tuning.dohMethod ?? 'GET');
  }
  const servers = spec.servers.length > 0 ? spec.servers.map(parseNameserver) : await systemNameservers();
  const dns2 = await loadDns2();
  return new NameserverResolver(dns2, servers, timeoutMs, attempts);
}

/** The nameservers in /etc/resolv.conf (the local machine's when it lists none or cannot be read). */
export async function systemNameservers(path = '/etc/resolv.conf'): Promise<Nameserver[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return parseResolvConf(text);
}

/**
 * A DoH endpoint must be https; plain http is accepted for a loopback address only (local tests and
 * a DoH proxy on the same machine).
 */
export function parseDohUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`invalid --doh URL ${JSON.stringify(value)}`, 'e.g. --doh https://cloudflare-dns.com/dns-query');
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) return url;
  throw new UsageError(`invalid --doh URL ${JSON.stringify(value)}: DNS over HTTPS needs an https:// URL`, 'e.g. --doh https://dns.google/dns-query');
}

async function loadDns2(): Promise<Dns2> {
  return (await import('dns2')).default;
}

class NameserverResolver implements DnsResolver {
  readonly label: string;

  constructor(
    private readonly dns2: Dns2,
    private readonly servers: Nameserver[],
    private readonly timeoutMs: number,
    private readonly attempts: number,
  ) {
    this.label = servers.map(formatNameserver).join(', ');
  }

  /** Each server in turn, twice round by default: an unreachable server costs one timeout per round. */
  async query(name: string, type: QueryType): Promise<DnsAnswer> {
    let last: DnsAnswer = { status: 'timeout', records: [] };
    for (let attempt = 0; attempt < this.attempts; attempt++) {
      for (const server of this.servers) {
        last = await this.ask(server, name, type);
        if (last.status !== 'timeout' && last.status !== 'error') return last;
      }
    }
    return last;
  }

  close(): void {}

  private async ask(server: Nameserver, name: string, type: QueryType): Promise<DnsAnswer> {
    const label = formatNameserver(server);
    try {
      const udp = this.dns2.UDPClient({
        dns: server.host,
        port: server.port,
        socketType: server.family === 6 ? 'udp6' : 'udp4',
        timeout: this.timeoutMs,
        // dns2's own TCP fallback has no timeout and cannot reach IPv6 servers: ours below.
        retryOverTCP: false,
      });
      let packet = await udp(name, type);
      if (packet.header.tc === 1) packet = await tcpQuery(this.dns2, server, name, type, this.timeoutMs);
      return toAnswer(this.dns2, packet, label);
    } catch (err) {
      return failure(err, label);
    }
  }
}

/** One query over TCP (RFC 1035 §4.2.2: two-byte length prefix), for answers too big for UDP. */
async function tcpQuery(dns2: Dns2, server: Nameserver, name: string, type: QueryType, timeoutMs: number): Promise<Packet> {
  const query = buildQuery(dns2, name, type, randomInt(0x10000));
  const message = query.toBuffer();
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length);
  const socket = connect({ host: server.host, port: server.port });
  socket.setTimeout(timeoutMs, () => socket.destroy(timeoutError(timeoutMs)));
  try {
    socket.write(Buffer.concat([length, message]));
    const data = await dns2.Packet.readStream(socket);
    const packet = dns2.Packet.parse(data);
    if (packet.header.id !== query.header.id) throw new Error('answer over TCP does not match the query');
    return packet;
  } finally {
    socket.destroy();
  }
}

class DohResolver implements DnsResolver {
  readonly label: string;
  private readonly agent: http.Agent;

  constructor(
    private readonly dns2: Dns2,
    private readonly url: URL,
    private readonly timeoutMs: number,
    private readonly attempts: number,
    private readonly method: 'GET' | 'POST',
  ) {
    this.label = url.href;
    this.agent = url.protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  }

  async query(name: string, type: QueryType): Promise<DnsAnswer> {
    let last: DnsAnswer = { status: 'timeout', records: [] };
    for (let attempt = 0; attempt < this.attempts; attempt++) {
      try {
        return toAnswer(this.dns2, await this.exchange(name, type), this.label);
      } catch (err) {
        last = failure(err, this.label);
      }
    }
    return last;
  }

  close(): void {
    this.agent.destroy();
  }

  /** RFC 8484 §4.1: id 0, wire format, `?dns=` base64url (GET) or the body (POST). */
  private exchange(name: string, type: QueryType): Promise<Packet> {
    const message = buildQuery(this.dns2, name, type, 0).toBuffer();
    const url = new URL(this.url);
    if (this.method === 'GET') url.searchParams.set('dns', message.toString('base64url'));
    const headers: Record<string, string | number> = { accept: 'application/dns-message' };
    if (this.method === 'POST') Object.assign(headers, { 'content-type': 'application/dns-message', 'content-length': message.length });
    const send = url.protocol === 'https:' ? https.request : http.request;
    return new Promise<Packet>((resolve, reject) => {
      const req = send(url, { method: this.method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) req.destroy(new Error(`answer larger than ${MAX_RESPONSE_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.on('error', reject);
        res.on('end', () => {
          const type = String(res.headers['content-type'] ?? '').split(';')[0]?.trim();
          if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode ?? '?'}`));
          if (type !== 'application/dns-message') return reject(new Error(`answer is ${type === '' ? 'untyped' : type}, not application/dns-message`));
          try {
            resolve(this.dns2.Packet.parse(Buffer.concat(chunks)));
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(timeoutError(this.timeoutMs)));
      req.on('error', reject);
      req.end(this.method === 'POST' ? message : undefined);
    });
  }
}

function buildQuery(dns2: Dns2, name: string, type: QueryType, id: number): Packet {
  const { Packet } = dns2;
  const query = new Packet();
  query.header.id = id;
  query.header.rd = 1;
  query.questions.push(new Packet.Question(name, Packet.TYPE[type], Packet.CLASS.IN));
  return query;
}

const RCODE_STATUS: Record<number, DnsStatus> = { 2: 'servfail', 3: 'nxdomain', 5: 'refused' };

function toAnswer(dns2: Dns2, packet: Packet, label: string): DnsAnswer {
  const { TYPE } = dns2.Packet;
  const records: DnsRecord[] = [];
  for (const rr of packet.answers) {
    const name = normalizeName(rr.name);
    if ((rr.type === TYPE.A || rr.type === TYPE.AAAA) && typeof rr.address === 'string') {
      records.push({ name, type: rr.type === TYPE.A ? 'A' : 'AAAA', address: rr.address });
    } else if (rr.type === TYPE.CNAME && typeof rr.domain === 'string') {
      records.push({ name, type: 'CNAME', target: normalizeName(rr.domain) });
    } else if (rr.type === TYPE.CAA && typeof rr.tag === 'string') {
      records.push({ name, type: 'CAA', flags: rr.flags ?? 0, tag: rr.tag, value: rr.value ?? '' });
    }
  }
  const rcode = packet.header.rcode;
  if (rcode === 0) return { status: records.length > 0 ? 'ok' : 'nodata', records, detail: label };
  const status = RCODE_STATUS[rcode];
  if (status === undefined) return { status: 'error', records: [], detail: `${label}: rcode ${rcode}` };
  return { status, records: status === 'nxdomain' ? records : [], detail: label };
}

function failure(err: unknown, label: string): DnsAnswer {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ETIMEDOUT') return { status: 'timeout', records: [], detail: label };
  return { status: 'error', records: [], detail: `${label}: ${e.message ?? String(err)}` };
}

function timeoutError(ms: number): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`no answer within ${ms} ms`);
  err.code = 'ETIMEDOUT';
  return err;
}

/** Lowercase, without the trailing dot: how names are compared everywhere in src/dns. */
export function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

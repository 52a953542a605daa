// Generates hostile HTTP/1.x requests for an HTTP-01 responder, from a seed: path traversal in
// every encoding, request-target forms, malformed and oversized headers, methods, bodies and
// smuggling attempts, protocol versions, pipelining, and bytes that are not HTTP at all. Each case
// says which pending token, if any, its requests name, so an answer can be judged.
import type { Payload } from '../harness/raw-exchange.js';
import { seededRandom, type Random } from '../harness/random.js';

export const CHALLENGE = '/.well-known/acme-challenge/';

export interface PendingEntry {
  token: string;
  keyAuthorization: string;
  domain: string;
}

export interface World {
  /** Tokens the store answers. */
  pending: PendingEntry[];
  /** Token-shaped names the store must never answer: withdrawn, expired, planted files, symlinks. */
  absent: string[];
}

export interface HostileRequest {
  method: string;
  /** The pending token this request names, however it is spelled: the only key authorization it may get. */
  token?: string;
  /** GET or HEAD of exactly /.well-known/acme-challenge/<token> (origin or absolute form, any query): the only requests that may get 200. */
  servable: boolean;
}

export interface HostileCase {
  id: number;
  kind: string;
  /** What the case tries, for failure messages. */
  label: string;
  payload: Payload[];
  /** The complete requests in the payload, in order. */
  requests: HostileRequest[];
  /** The payload is deliberately incomplete or not HTTP: FIN after it, so the server decides at once. */
  halfClose: boolean;
}

/** Bytes of a string written as latin1, so "\xc0" is one raw byte; `utf8()` makes UTF-8 bytes of text. */
function utf8(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

/** "." spelled as path-normalising servers have been tricked into reading it. */
const DOTS = ['.', '%2e', '%2E', '%252e', '%25252e', '%c0%ae', '%C0%AE', '%e0%80%ae', '%f0%80%80%ae', '%u002e', '%ef%bc%8e', '%e2%80%a4', '\xc0\xae', utf8('\u2024'), utf8('\uff0e'), '.%00', '%2e%00'];
/** "/" likewise, plus backslashes and doubled or dotted separators. */
const SLASHES = ['/', '%2f', '%2F', '%252f', '%25252f', '%c0%af', '%C0%AF', '%e0%80%af', '%c1%9c', '\\', '%5c', '%5C', '%255c', '//', '/./', '%u2215', '%e2%88%95', utf8('\u2215'), '%ef%bc%8f', '/%00/', '\xc0\xaf'];
/** What a traversal reaches for in or around a config dir. */
const FILE_GOALS = [
  'secret.txt',
  '../secret.txt',
  '../../secret.txt',
  '../secret.json',
  '../challenges/linked.json',
  '../challenges/secret',
  '../accounts/',
  '../renewal/',
  '../archive/',
  '../../../../../../etc/passwd',
  '../../../../../../proc/self/environ',
  '../../../../../../etc/shadow',
  '..',
  '.',
  '',
  'linked.json',
  'secret',
  'linked',
];
const SUFFIXES = ['', '', '', '?x=1', '?../../secret.txt', '?%00', '#frag', '%00', '%00.json', '/', '.json', ';x', '%20', '%2f', '/.', '/..', '%0d%0aX-Injected:%201', '?a=%0d%0a', '~', '.', '%2500'];
const METHODS = [
  'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK',
  'SEARCH', 'PURGE', 'LINK', 'UNLINK', 'REPORT', 'MKACTIVITY', 'CHECKOUT', 'MERGE', 'M-SEARCH', 'NOTIFY', 'SUBSCRIBE', 'UNSUBSCRIBE',
  'SOURCE', 'QUERY', 'ACL', 'BIND', 'REBIND', 'UNBIND', 'MKCALENDAR', 'PRI',
];
const BAD_METHODS = ['get', 'Get', 'GETT', 'G\x00ET', 'GE T', 'GET\t', '', 'HTTP/1.1', '123', 'GET/', utf8('GÉT'), '\x16\x03\x01', 'X'.repeat(1000), 'POST\x7f', '-', '@GET'];
const BAD_HOSTS = [
  '', ' ', 'a b', 'a\tb', '[::1', '[::1]]', 'a:b:c', 'a.test:99999', 'a.test:-1', '@evil.test', 'user@a.test', 'x'.repeat(300), '..', '.',
  'a..b', '%00', 'a\x00b', utf8('exämple.test'), 'a,b', 'a.test/path', 'a.test?x', 'a.test#x', 'http://a.test', '127.0.0.1:80:80', '[fe80::1%eth0]',
  '\xff\xfe', 'a.test\x7f', 'A.TEST.', '*', '[]',
];
const VERSIONS = ['HTTP/1.2', 'HTTP/2.0', 'HTTP/3.0', 'HTTP/1.10', 'HTTP/01.1', 'http/1.1', 'HTTP/1.1 ', 'HTTP/1', 'HTTP/', 'HTTPS/1.1', 'HTTP/1.1\x00', 'HTTP/9.9', 'HTTP/1.1/1.1', 'HTTP/0.9', 'HTTP/1.0 ', 'HTTP/-1.1', 'HTTP/1.1x'];

interface Draft {
  label: string;
  payload: Payload[];
  requests: HostileRequest[];
  halfClose?: boolean;
}

type Maker = (r: Random, world: World) => Draft;

/** The request line, header lines and blank line; `eol` lets a case use bare LF or CR. */
function message(line: string, headers: string[], eol = '\r\n'): string {
  return `${line}${eol}${headers.map((h) => `${h}${eol}`).join('')}${eol}`;
}

function someHeaders(r: Random, host: string): string[] {
  const headers = [`Host: ${host}`];
  if (r.chance(0.3)) headers.push('User-Agent: Mozilla/5.0 (hostile)');
  if (r.chance(0.4)) headers.push('Connection: close');
  if (r.chance(0.2)) headers.push('Accept: */*');
  return headers;
}

function pendingOf(r: Random, world: World): PendingEntry {
  return r.pick(world.pending);
}

/** Percent-encodes about a third of the characters of a token (a spelling that must not be served). */
function encodeSome(r: Random, text: string): string {
  return [...text]
    .map((c) => {
      if (!r.chance(0.35)) return c;
      const hex = c.charCodeAt(0).toString(16).padStart(2, '0');
      return `%${r.chance(0.5) ? hex.toUpperCase() : hex}`;
    })
    .join('');
}

/** The spellings a request line may carry (printable ASCII, no NUL): these reach the server's own path checks. */
const printable = (spellings: string[]): string[] => spellings.filter((s) => /^[\x21-\x7e]+$/.test(s) && !s.includes('%00'));
const CLEAN_DOTS = printable(DOTS);
const CLEAN_SLASHES = printable(SLASHES);

function dotdot(r: Random, dots = DOTS): string {
  return `${r.pick(dots)}${r.pick(dots)}`;
}

/** "../" k times, each dot and slash spelled independently; half the time only with printable spellings. */
function traversal(r: Random, k: number): string {
  const [dots, slashes] = r.chance(0.5) ? [CLEAN_DOTS, CLEAN_SLASHES] : [DOTS, SLASHES];
  let out = '';
  for (let i = 0; i < k; i++) out += `${dotdot(r, dots)}${r.pick(slashes)}`;
  return out;
}

/** Re-spells "." and "/" inside a relative path. */
function respell(r: Random, path: string): string {
  return path.replace(/\.\.|[./]/g, (m) => (m === '..' ? dotdot(r) : m === '.' ? r.pick(DOTS) : r.pick(SLASHES)));
}

/** The challenge folder spelled one way or another; `exact` for the one canonical spelling (origin or absolute form). */
function challengePrefix(r: Random, host: string): { text: string; exact: boolean } {
  const choice = r.int(0, 19);
  switch (choice) {
    case 0:
      return { text: `http://${host}${CHALLENGE}`, exact: true };
    case 1:
      return { text: `http://${r.pick(['evil.test', '127.0.0.1', `${host}:80`, `${host}@evil.test`, 'localhost'])}${CHALLENGE}`, exact: false };
    case 2:
      return { text: `${r.pick(['https', 'HTTP', 'ftp', 'file', 'gopher'])}://${host}${CHALLENGE}`, exact: false };
    case 3:
      return { text: `//${r.pick([host, 'evil.test'])}${CHALLENGE}`, exact: false };
    case 4:
      return { text: `/.well-known/acme-challenge${r.pick(SLASHES)}`, exact: false };
    case 5:
      return { text: `/${r.pick(DOTS)}well-known${r.pick(SLASHES)}acme-challenge/`, exact: false };
    case 6:
      return { text: r.pick(['//.well-known/acme-challenge/', '/.well-known//acme-challenge/', '/.well-known/./acme-challenge/', '/./.well-known/acme-challenge/']), exact: false };
    case 7:
      return { text: r.pick(['/.WELL-KNOWN/ACME-CHALLENGE/', '/.Well-Known/Acme-Challenge/', '/.well-known/acme-challenge/./', '/.well-known/acme-challenge/;/']), exact: false };
    case 8:
      return { text: `/x${r.pick(SLASHES)}${dotdot(r)}${r.pick(SLASHES)}.well-known/acme-challenge/`, exact: false };
    case 9:
      return { text: `${encodeSome(r, '/.well-known/acme-challenge')}/`, exact: false };
    case 10:
      return { text: r.pick(['/', '/static/', '/.well-known/', '/challenges/', '/acme-challenge/']), exact: false };
    default:
      return { text: CHALLENGE, exact: true };
  }
}

/** Traversal and request-target tricks around the challenge folder, as GET or HEAD. */
const traversalCase: Maker = (r, world) => {
  const pending = pendingOf(r, world);
  const host = r.chance(0.8) ? pending.domain : r.pick(['evil.test', '127.0.0.1', 'localhost']);
  const method = r.chance(0.8) ? 'GET' : 'HEAD';
  const special = r.int(0, 24);
  if (special === 0) {
    const target = r.pick(['*', `${host}:80`, `${pending.domain}:443`, 'a.test', '[::1]:80', `${CHALLENGE}${pending.token}`.slice(1)]);
    return { label: `request target ${JSON.stringify(target)}`, payload: [bytes(message(`${method} ${target} HTTP/1.1`, someHeaders(r, host)))], requests: [{ method, token: pending.token, servable: false }] };
  }
  const prefix = challengePrefix(r, host);
  const depth = r.chance(0.6) ? r.pick([1, 1, 2, 2, 3, 4, 6, 8]) : 0;
  let goal: string;
  let token: string | undefined;
  let plain = false;
  const pick = r.int(0, 9);
  if (pick <= 3) {
    const named = pendingOf(r, world);
    token = named.token;
    plain = depth === 0 && r.chance(0.6);
    goal = plain ? named.token : r.chance(0.5) ? encodeSome(r, named.token) : `${traversal(r, 1)}acme-challenge${r.pick(SLASHES)}${named.token}`;
  } else if (pick <= 5) {
    goal = r.pick(world.absent);
  } else {
    goal = respell(r, r.pick(FILE_GOALS));
  }
  const suffix = r.pick(SUFFIXES);
  const target = `${prefix.text}${traversal(r, depth)}${goal}${suffix}`;
  const servable = prefix.exact && plain && (suffix === '' || suffix.startsWith('?'));
  return {
    label: `${method} ${target.slice(0, 160)}`,
    payload: [bytes(message(`${method} ${target} HTTP/1.1`, someHeaders(r, host)))],
    requests: [{ method, ...(token === undefined ? {} : { token }), servable }],
  };
};

/** Oversized and malformed header blocks, bad Host values, obs-fold, bare LF, framing headers. */
const headerCase: Maker = (r, world) => {
  const pending = pendingOf(r, world);
  const onToken = r.chance(0.6);
  const target = onToken ? `${CHALLENGE}${pending.token}` : r.pick(['/', '/index.html', `${CHALLENGE}${r.pick(world.absent)}`]);
  const method = r.chance(0.85) ? 'GET' : 'HEAD';
  const request: HostileRequest = { method, ...(onToken ? { token: pending.token } : {}), servable: onToken };
  const host = `Host: ${pending.domain}`;
  const line = `${method} ${target} HTTP/1.1`;
  const plainCase = (label: string, headers: string[], eol = '\r\n'): Draft => ({ label, payload: [bytes(message(line, headers, eol))], requests: [request] });
  const mutation = r.int(0, 27);
  switch (mutation) {
    case 0: {
      const size = r.chance(0.7) ? r.int(8 * 1024, 64 * 1024) : r.int(64 * 1024, 1024 * 1024);
      return { label: `one header line of ${size} bytes`, payload: [bytes(`${line}\r\n${host}\r\nX-Big: `), { fill: r.pick(['a', 'A=', '%2e%2e/']), bytes: size }, bytes('\r\n\r\n')], requests: [request] };
    }
    case 1: {
      const count = r.int(300, 6000);
      const headers = [host, ...Array.from({ length: count }, (_, i) => `X-H${i}: ${i % 7 === 0 ? 'v'.repeat(20) : 'v'}`)];
      return { ...plainCase(`${count} header fields`, headers) };
    }
    case 2: {
      const size = r.int(9 * 1024, 200 * 1024);
      return { label: `request target of ${size} bytes`, payload: [bytes(`${method} ${CHALLENGE}`), { fill: r.pick(['a', '../', '%2e%2e%2f']), bytes: size }, bytes(` HTTP/1.1\r\n${host}\r\n\r\n`)], requests: [{ method, servable: false }] };
    }
    case 3: {
      const size = r.int(9 * 1024, 100 * 1024);
      return { label: `header name of ${size} bytes`, payload: [bytes(`${line}\r\n${host}\r\n`), { fill: 'N', bytes: size }, bytes(': v\r\n\r\n')], requests: [request] };
    }
    case 4:
    case 5: {
      const bad = r.pick(BAD_HOSTS);
      return plainCase(`Host ${JSON.stringify(bad)}`, [`Host: ${bad}`, 'Connection: close']);
    }
    case 6:
      return plainCase('no Host header', r.chance(0.5) ? [] : ['Connection: close']);
    case 7:
      return plainCase('two Host headers', [host, `Host: ${r.pick(['evil.test', pending.domain, ''])}`]);
    case 8:
      return plainCase('obs-fold', [host, `X-Folded: a\r\n${r.pick([' ', '\t', '  \t'])}b`, r.pick(['Connection: close', 'Connection: keep-alive\r\n close'])]);
    case 9:
      return plainCase('obs-fold of Host', [`Host: ${pending.domain}\r\n evil.test`]);
    case 10:
      return plainCase('bare LF line ends', [host, 'Connection: close'], '\n');
    case 11:
      return plainCase('bare CR line ends', [host, 'Connection: close'], '\r');
    case 12:
      return { label: 'mixed line ends', payload: [bytes(`${line}\n${host}\r\nX-A: b\n\r\n`)], requests: [request] };
    case 13:
      return plainCase('header without colon', [host, r.pick(['NoColonHere', 'X-A b', ': value', ':', 'X A: b', 'X-A : b', '(x): y', 'X-\x00: y', '\tX-A: b'])]);
    case 14:
      return plainCase('control characters in a value', [host, `X-A: ${r.pick(['a\x00b', 'a\x01b', 'a\x7fb', 'a\x1bb', 'a\rb', 'a\x0bb'])}`]);
    case 15:
      return plainCase('8-bit bytes in values', [host, `X-A: ${utf8('日本語')}`, 'X-B: \xff\xfe\xfd']);
    case 16:
      return plainCase('whitespace before the first header', [` ${host}`, 'Connection: close']);
    case 17:
      return plainCase('bad Content-Length', [host, `Content-Length: ${r.pick(['-1', '0x10', '1,1', '1, 2', '+5', ' 5 ', '5 5', '99999999999999999999999', '18446744073709551616', 'abc', '', '1.0', '١'])}`]);
    case 18:
      return plainCase('two Content-Length fields', [host, 'Content-Length: 0', `Content-Length: ${r.pick(['0', '1', '5'])}`]);
    case 19:
      return {
        label: 'Transfer-Encoding variant',
        payload: [bytes(message(line, [host, `Transfer-Encoding: ${r.pick(['chunked', 'chunked, identity', 'identity', 'gzip, chunked', 'chunked\x0b', ' chunked', 'Chunked', 'xchunked', 'chunked;q=1', 'chunked, chunked', 'cow', '\tchunked'])}`]) + '0\r\n\r\n')],
        requests: [request],
      };
    case 20:
      return plainCase('Transfer-Encoding twice', [host, 'Transfer-Encoding: chunked', `Transfer-Encoding: ${r.pick(['identity', 'x', 'chunked'])}`]);
    case 21:
      return plainCase('Expect', [host, `Expect: ${r.pick(['100-continue', '200-ok', 'x'.repeat(100), ''])}`, 'Connection: close']);
    case 22:
      return plainCase('Upgrade', [host, 'Connection: Upgrade, HTTP2-Settings', `Upgrade: ${r.pick(['websocket', 'h2c', 'HTTP/2.0', 'TLS/1.2'])}`, 'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==']);
    case 23:
      return plainCase('Connection naming other fields', [host, `Connection: ${r.pick(['Host', 'close, Host', 'keep-alive, Content-Length', 'Transfer-Encoding', 'x'.repeat(2000)])}`]);
    case 24:
      return plainCase('cookie and forwarding headers', [host, `Cookie: ${'a=b; '.repeat(r.int(10, 1000))}`, 'X-Forwarded-For: 127.0.0.1', `X-Original-URL: ${CHALLENGE}../secret.txt`, `X-Rewrite-URL: ${CHALLENGE}${r.pick(world.absent)}`]);
    case 25:
      return { label: 'header block never finished', payload: [bytes(`${line}\r\n${host}\r\nX-A: b`)], requests: [], halfClose: true };
    case 26:
      return { label: 'request line only', payload: [bytes(`${line}\r\n`)], requests: [], halfClose: true };
    default:
      return plainCase('Host with a port and a trailing dot', [`Host: ${pending.domain.toUpperCase()}.:${r.int(0, 65535)}`]);
  }
};

/** Every method there is, and some that are not, against a pending token. */
const methodCase: Maker = (r, world) => {
  const pending = pendingOf(r, world);
  const bad = r.chance(0.3);
  const method = bad ? r.pick(BAD_METHODS) : r.pick(METHODS);
  const target = r.chance(0.8) ? `${CHALLENGE}${pending.token}` : r.pick(['/', '*', `${CHALLENGE}`]);
  const headers = [`Host: ${pending.domain}`, 'Connection: close'];
  if (r.chance(0.3)) headers.push('Content-Length: 0');
  return {
    label: `method ${JSON.stringify(method.slice(0, 40))} ${target.slice(0, 60)}`,
    payload: [bytes(message(`${method} ${target} HTTP/1.1`, headers))],
    requests: [{ method, token: pending.token, servable: false }],
  };
};

/** Bodies of every size and framing, and request smuggling with a second pending token inside. */
const bodyCase: Maker = (r, world) => {
  const outer = pendingOf(r, world);
  const inner = world.pending.find((p) => p.token !== outer.token) ?? outer;
  const method = r.pick(['POST', 'PUT', 'GET', 'PATCH']);
  const onToken = r.chance(0.5);
  const target = onToken ? `${CHALLENGE}${outer.token}` : r.pick(['/', '/upload', `${CHALLENGE}${r.pick(world.absent)}`]);
  const outerRequest: HostileRequest = { method, ...(onToken ? { token: outer.token } : {}), servable: onToken && method === 'GET' };
  const host = `Host: ${outer.domain}`;
  const line = `${method} ${target} HTTP/1.1`;
  // A request hidden in a body: answering it would show that framing was misread.
  const smuggled = `GET ${CHALLENGE}${inner.token} HTTP/1.1\r\nHost: ${inner.domain}\r\n\r\n`;
  const variant = r.int(0, 11);
  switch (variant) {
    case 0:
    case 1: {
      const size = r.pick([0, 1, 100, 4096, 65536, 65536, 1024 * 1024, r.chance(0.1) ? 4 * 1024 * 1024 : 200_000]);
      return { label: `${method} with a ${size}-byte body`, payload: [bytes(message(line, [host, `Content-Length: ${size}`])), { fill: r.pick(['x', '\x00', 'GET / HTTP/1.1\r\n']), bytes: size }], requests: [outerRequest] };
    }
    case 2: {
      const chunks = r.int(1, 200);
      let body = '';
      for (let i = 0; i < chunks; i++) body += `${(i % 16) + 1}\r\n${'c'.repeat((i % 16) + 1)}\r\n`;
      return { label: `chunked body of ${chunks} chunks`, payload: [bytes(`${message(line, [host, 'Transfer-Encoding: chunked'])}${body}0\r\n${r.chance(0.3) ? 'X-Trailer: t\r\n' : ''}\r\n`)], requests: [outerRequest] };
    }
    case 3:
      return { label: 'chunk size overflow', payload: [bytes(`${message(line, [host, 'Transfer-Encoding: chunked'])}${r.pick(['ffffffffffffffffffff', '-1', '0x10', 'zz', '1 1', '\x00'])}\r\nabc\r\n0\r\n\r\n`)], requests: [outerRequest] };
    case 4:
      return { label: 'huge chunk extension', payload: [bytes(`${message(line, [host, 'Transfer-Encoding: chunked'])}1;ext=`), { fill: 'e', bytes: r.int(17 * 1024, 256 * 1024) }, bytes('\r\nx\r\n0\r\n\r\n')], requests: [outerRequest] };
    case 5:
      return { label: 'declared body never sent', payload: [bytes(message(line, [host, `Content-Length: ${r.pick(['1000000000000', '4294967296', '1048576'])}`])), bytes('partial')], requests: [outerRequest], halfClose: r.chance(0.5) };
    case 6:
      return { label: 'smuggling CL.TE', payload: [bytes(`${message(line, [host, `Content-Length: ${5 + smuggled.length}`, 'Transfer-Encoding: chunked'])}0\r\n\r\n${smuggled}`)], requests: [outerRequest] };
    case 7:
      return { label: 'smuggling TE.CL', payload: [bytes(`${message(line, [host, 'Transfer-Encoding: chunked', 'Content-Length: 4'])}${(smuggled.length + 2).toString(16)}\r\nxx${smuggled}\r\n0\r\n\r\n`)], requests: [outerRequest] };
    case 8:
      return { label: 'smuggling TE.TE', payload: [bytes(`${message(line, [host, 'Transfer-Encoding: chunked', `Transfer-Encoding${r.pick([' ', '\t', ''])}: ${r.pick(['x', 'chunked ', 'identity'])}`, `Content-Length: ${smuggled.length}`])}${smuggled}`)], requests: [outerRequest] };
    case 9:
      return { label: 'smuggling CL.CL', payload: [bytes(`${message(line, [host, 'Content-Length: 0', `Content-Length: ${smuggled.length}`])}${smuggled}`)], requests: [outerRequest] };
    case 10:
      return { label: 'smuggling in a GET body', payload: [bytes(`${message(`GET ${CHALLENGE}${outer.token} HTTP/1.1`, [host, `Content-Length: ${smuggled.length}`])}${smuggled}`)], requests: [{ method: 'GET', token: outer.token, servable: true }] };
    default:
      // A well-delimited body followed by a real second request: legitimate pipelining, so listed.
      return {
        label: 'body then a pipelined request',
        payload: [bytes(`${message(line, [host, 'Content-Length: 5'])}hello${smuggled}`)],
        requests: [outerRequest, { method: 'GET', token: inner.token, servable: true }],
      };
  }
};

/** HTTP/1.0, HTTP/0.9-looking lines, and versions that do not exist. */
const versionCase: Maker = (r, world) => {
  const pending = pendingOf(r, world);
  const target = r.chance(0.7) ? `${CHALLENGE}${pending.token}` : `${CHALLENGE}${r.pick(world.absent)}`;
  const token = target.endsWith(pending.token) ? pending.token : undefined;
  const request = (method: string): HostileRequest => ({ method, ...(token === undefined ? {} : { token }), servable: token !== undefined });
  const variant = r.int(0, 5);
  switch (variant) {
    case 0:
      return { label: 'HTTP/1.0', payload: [bytes(message(`GET ${target} HTTP/1.0`, r.chance(0.5) ? [] : [`Host: ${pending.domain}`, ...(r.chance(0.5) ? ['Connection: keep-alive'] : [])]))], requests: [request('GET')] };
    case 1:
      return { label: 'HTTP/0.9 line', payload: [bytes(`GET ${target}\r\n`)], requests: [], halfClose: true };
    case 2:
      return { label: 'HTTP/0.9 line and blank line', payload: [bytes(`GET ${target}\r\n\r\n`)], requests: [request('GET')], halfClose: r.chance(0.5) };
    case 3:
      return { label: 'HTTP/0.9 line, bare LF', payload: [bytes(`GET ${target}\n`)], requests: [], halfClose: true };
    default: {
      const version = r.pick(VERSIONS);
      return { label: `version ${JSON.stringify(version)}`, payload: [bytes(message(`GET ${target} ${version}`, [`Host: ${pending.domain}`, 'Connection: close']))], requests: [request('GET')] };
    }
  }
};

/** Up to 40 requests in one go, good and bad mixed, sometimes split at odd places. */
const pipelineCase: Maker = (r, world) => {
  const count = r.int(2, 40);
  const requests: HostileRequest[] = [];
  let text = '';
  for (let i = 0; i < count; i++) {
    const pending = pendingOf(r, world);
    const kind = r.int(0, 9);
    const method = r.chance(0.75) ? 'GET' : 'HEAD';
    if (kind <= 3) {
      text += message(`${method} ${CHALLENGE}${pending.token} HTTP/1.1`, [`Host: ${pending.domain}`]);
      requests.push({ method, token: pending.token, servable: true });
    } else if (kind <= 5) {
      text += message(`${method} ${CHALLENGE}${r.pick(world.absent)} HTTP/1.1`, [`Host: ${pending.domain}`]);
      requests.push({ method, servable: false });
    } else if (kind <= 7) {
      text += message(`${method} ${CHALLENGE}${traversal(r, r.int(1, 4))}${r.pick(FILE_GOALS)} HTTP/1.1`, [`Host: ${pending.domain}`]);
      requests.push({ method, servable: false });
    } else if (kind === 8) {
      text += message(`${method} /${r.pick(['', 'x', 'index.html'])} HTTP/1.1`, [`Host: ${pending.domain}`]);
      requests.push({ method, servable: false });
    } else {
      // A bad one: the server stops here (the list ends with it).
      text += message(r.pick([`GET ${CHALLENGE}a%00 HTTP/1.1`, 'GET / HTTP/1.1\nBad Header', `BREW ${CHALLENGE} HTTP/1.1`, 'GET / HTTP/1.1']), r.chance(0.5) ? [] : ['Host: a b']);
      requests.push({ method: 'GET', servable: false });
      break;
    }
  }
  const whole = bytes(text);
  const pieces = r.chance(0.5) ? 1 : r.int(2, 6);
  const cuts = Array.from({ length: pieces - 1 }, () => r.int(1, Math.max(1, whole.length - 1))).sort((a, b) => a - b);
  const payload: Buffer[] = [];
  let at = 0;
  for (const cut of [...cuts, whole.length]) {
    if (cut > at) payload.push(whole.subarray(at, cut));
    at = Math.max(at, cut);
  }
  return { label: `${requests.length} pipelined requests in ${payload.length} writes`, payload, requests };
};

/** A TLS 1.3-style ClientHello with SNI, as a browser sends to https://name on the wrong port. */
function clientHello(r: Random, name: string): Buffer {
  const sni = Buffer.from(name, 'latin1');
  const serverName = Buffer.concat([Buffer.from([0x00, 0x00]), u16(sni.length + 5), u16(sni.length + 3), Buffer.from([0x00]), u16(sni.length), sni]);
  const versions = Buffer.from([0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04]);
  const extensions = Buffer.concat([serverName, versions]);
  const body = Buffer.concat([Buffer.from([0x03, 0x03]), r.bytes(32), Buffer.from([0x20]), r.bytes(32), u16(6), Buffer.from([0x13, 0x01, 0x13, 0x02, 0xc0, 0x2f]), Buffer.from([0x01, 0x00]), u16(extensions.length), extensions]);
  const handshake = Buffer.concat([Buffer.from([0x01, 0x00]), u16(body.length), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), u16(handshake.length), handshake]);
}

function u16(n: number): Buffer {
  return Buffer.from([(n >> 8) & 0xff, n & 0xff]);
}

/** Bytes that are not HTTP: noise, other protocols, endless blank lines. */
const garbageCase: Maker = (r, world) => {
  const pending = pendingOf(r, world);
  const variant = r.int(0, 9);
  const raw = (label: string, payload: Payload[]): Draft => ({ label, payload, requests: [], halfClose: true });
  switch (variant) {
    case 0:
    case 1:
      return raw('random bytes', [r.bytes(r.int(1, 8192))]);
    case 2:
      return raw('random printable text', [bytes(Array.from({ length: r.int(1, 4096) }, () => String.fromCharCode(r.int(0x20, 0x7e))).join(''))]);
    case 3:
      return raw('TLS ClientHello', [clientHello(r, pending.domain)]);
    case 4:
      return raw('blank lines', [{ fill: r.pick(['\r\n', '\n', '\r']), bytes: r.int(2, 40_000) }]);
    case 5:
      return raw('NUL bytes', [{ fill: '\x00', bytes: r.int(1, 20_000) }]);
    case 6:
      return raw('HTTP/2 preface', [bytes('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x64\x00\x04\x40\x00\x00\x00\x00\x02\x00\x00\x00\x00')]);
    case 7:
      return raw('other protocols', [bytes(r.pick(['SSH-2.0-OpenSSH_9.6\r\n', 'EHLO evil.test\r\n', 'HELO\r\n', '\x05\x01\x00', 'USER anonymous\r\n', '{"jsonrpc":"2.0"}\n', '\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58']))]);
    case 8:
      return raw('PROXY protocol header', [bytes(`${r.pick(['PROXY TCP4 203.0.113.1 127.0.0.1 51000 80\r\n', '\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c\xcb\x00\x71\x01\x7f\x00\x00\x01\xc7\x38\x00\x50'])}${message(`GET ${CHALLENGE}${pending.token} HTTP/1.1`, [`Host: ${pending.domain}`])}`)]);
    default:
      return raw('request line of random bytes', [Buffer.concat([bytes('GET /'), r.bytes(r.int(1, 200)), bytes(' HTTP/1.1\r\n\r\n')])]);
  }
};

const MAKERS: [string, Maker, number][] = [
  ['traversal', traversalCase, 34],
  ['headers', headerCase, 20],
  ['methods', methodCase, 10],
  ['bodies', bodyCase, 10],
  ['versions', versionCase, 8],
  ['pipelining', pipelineCase, 9],
  ['garbage', garbageCase, 9],
];

/** `count` hostile cases, the same for the same seed and world. */
export function hostileCases(world: World, count: number, seed: number): HostileCase[] {
  const r = seededRandom(seed);
  const total = MAKERS.reduce((sum, [, , weight]) => sum + weight, 0);
  return Array.from({ length: count }, (_, id) => {
    let roll = r.int(0, total - 1);
    const [kind, make] = MAKERS.find(([, , weight]) => (roll -= weight) < 0) ?? MAKERS[0] ?? ['traversal', traversalCase, 1];
    const draft = make(r, world);
    return { id, kind, label: draft.label, payload: draft.payload, requests: draft.requests, halfClose: draft.halfClose ?? false };
  });
}

/** Plain GET and HEAD of pending tokens, as a CA sends them: each must be answered 200. */
export function controlCase(world: World, index: number): HostileCase {
  const pending = world.pending[index % world.pending.length] as PendingEntry;
  const method = index % 4 === 3 ? 'HEAD' : 'GET';
  return {
    id: -1 - index,
    kind: 'control',
    label: `control ${method} ${pending.token}`,
    payload: [bytes(message(`${method} ${CHALLENGE}${pending.token} HTTP/1.1`, [`Host: ${pending.domain}`, 'User-Agent: control', ...(index % 2 === 0 ? ['Connection: close'] : [])]))],
    requests: [{ method, token: pending.token, servable: true }],
    halfClose: false,
  };
}

/** `bytes` of pipelined GETs for token-shaped names that are not pending, sent without waiting. */
export function pipelineFlood(world: World, bytesWanted: number, seed: number): { payload: Buffer; requests: HostileRequest[] } {
  const r = seededRandom(seed);
  const host = world.pending[0]?.domain ?? 'a.test';
  let text = '';
  const requests: HostileRequest[] = [];
  while (text.length < bytesWanted) {
    const name = `${r.pick(world.absent)}${r.int(0, 1e6)}`;
    text += `GET ${CHALLENGE}${name} HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
    requests.push({ method: 'GET', servable: false });
  }
  return { payload: bytes(text), requests };
}

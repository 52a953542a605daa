// Raw HTTP/1.x exchanges over node:net for hostile-input tests: bytes go out exactly as given (no
// client normalises a path or a header), and the answers are parsed as they arrive, one by one.
import { connect, type Socket } from 'node:net';

/** One answer as it came off the wire. */
export interface RawResponse {
  status: number;
  /** Status line and header lines, latin1, without the blank line. */
  head: string;
  /** Lower-case names; repeated fields joined with ", ". */
  headers: Map<string, string>;
  body: Buffer;
}

/** What an exchange writes: bytes, or `bytes` bytes of `fill` repeated (sent in pieces, never built whole). */
export type Payload = Buffer | { fill: string; bytes: number };

export interface ExchangeOptions {
  port: number;
  payload: Payload[];
  /** Final (non-1xx) answers expected; once they are in, the client closes. 0: wait for the server. */
  expected: number;
  /** Whether the n-th final answer has no body whatever its headers say (the answer to a HEAD). */
  bodyless?: (index: number) => boolean;
  /** Send FIN after the payload (a client that has nothing more to say). */
  halfClose?: boolean;
  /** Give up (and report it) after this long. */
  deadlineMs: number;
  /** Called for each answer as soon as it is complete. */
  onResponse?: (response: RawResponse, index: number) => void;
}

export interface ExchangeResult {
  /** Final answers parsed. */
  answers: number;
  /** Who ended it: the server (close or reset), the client (all answers in), or the deadline. */
  endedBy: 'server' | 'client' | 'deadline';
  /** Bytes received that do not form a complete answer (an answer cut by a reset, or garbage). */
  leftover: Buffer;
  /** Set when the server sent something that is not an HTTP/1.x answer. */
  malformed?: string;
  durationMs: number;
}

/** Largest answer head a well-behaved server sends; more is garbage. */
const MAX_HEAD = 64 * 1024;
const PIECE = 64 * 1024;

/** Parses HTTP/1.x answers from a byte stream, as the bytes arrive. */
export class ResponseReader {
  private buffer: Buffer = Buffer.alloc(0);
  private finals = 0;
  malformed: string | undefined;

  constructor(private readonly bodyless: (index: number) => boolean = () => false) {}

  /** Adds bytes; returns the answers completed by them (1xx interim answers included, index -1). */
  push(chunk: Buffer): { response: RawResponse; index: number }[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const out: { response: RawResponse; index: number }[] = [];
    while (this.malformed === undefined) {
      const parsed = this.next(false);
      if (parsed === undefined) break;
      out.push(parsed);
    }
    return out;
  }

  /** The connection ended: an answer delimited by the close completes; the rest is left over. */
  end(): { response?: { response: RawResponse; index: number }; leftover: Buffer } {
    const last = this.malformed === undefined ? this.next(true) : undefined;
    return { ...(last === undefined ? {} : { response: last }), leftover: this.buffer };
  }

  private next(closed: boolean): { response: RawResponse; index: number } | undefined {
    const headEnd = this.buffer.indexOf('\r\n\r\n');
    if (headEnd === -1) {
      if (this.buffer.length > MAX_HEAD || (this.buffer.length >= 5 && !this.buffer.subarray(0, 5).equals(Buffer.from('HTTP/')))) {
        this.malformed = `not an HTTP answer: ${JSON.stringify(this.buffer.subarray(0, 80).toString('latin1'))}`;
      }
      return undefined;
    }
    const head = this.buffer.subarray(0, headEnd).toString('latin1');
    const [statusLine = '', ...lines] = head.split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})(?: [^\r\n]*)?$/.exec(statusLine);
    if (status === null) {
      this.malformed = `bad status line: ${JSON.stringify(statusLine.slice(0, 80))}`;
      return undefined;
    }
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon <= 0) {
        this.malformed = `bad header line: ${JSON.stringify(line.slice(0, 80))}`;
        return undefined;
      }
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      const previous = headers.get(name);
      headers.set(name, previous === undefined ? value : `${previous}, ${value}`);
    }
    const code = Number(status[1]);
    const interim = code >= 100 && code < 200;
    const start = headEnd + 4;
    let body: Buffer;
    let consumed: number;
    if (interim || code === 204 || code === 304 || this.bodyless(this.finals)) {
      body = Buffer.alloc(0);
      consumed = start;
    } else if (headers.get('transfer-encoding')?.toLowerCase() === 'chunked') {
      const chunked = readChunked(this.buffer, start);
      if (chunked === 'bad') {
        this.malformed = 'bad chunked body';
        return undefined;
      }
      if (chunked === undefined) return undefined;
      ({ body, consumed } = chunked);
    } else if (headers.has('content-length')) {
      const length = Number(headers.get('content-length'));
      if (!Number.isSafeInteger(length) || length < 0) {
        this.malformed = `bad Content-Length: ${headers.get('content-length') ?? ''}`;
        return undefined;
      }
      if (this.buffer.length < start + length) return undefined;
      body = this.buffer.subarray(start, start + length);
      consumed = start + length;
    } else {
      // Delimited by the close (RFC 9112 §6.3).
      if (!closed) return undefined;
      body = this.buffer.subarray(start);
      consumed = this.buffer.length;
    }
    this.buffer = this.buffer.subarray(consumed);
    const index = interim ? -1 : this.finals++;
    return { response: { status: code, head, headers, body: Buffer.from(body) }, index };
  }
}

function readChunked(buffer: Buffer, start: number): { body: Buffer; consumed: number } | 'bad' | undefined {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = buffer.indexOf('\r\n', at);
    if (lineEnd === -1) return undefined;
    const size = /^([0-9a-fA-F]{1,8})(?:;.*)?$/.exec(buffer.subarray(at, lineEnd).toString('latin1'));
    if (size === null) return 'bad';
    const length = parseInt(size[1] ?? '', 16);
    at = lineEnd + 2;
    if (length === 0) {
      // Trailer fields, then the blank line.
      const end = buffer.indexOf('\r\n\r\n', at - 2);
      if (end === -1) return undefined;
      return { body: Buffer.concat(parts), consumed: end + 4 };
    }
    if (buffer.length < at + length + 2) return undefined;
    parts.push(buffer.subarray(at, at + length));
    at += length + 2;
  }
}

/**
 * Connects to 127.0.0.1:port, writes the payload (stopping when the server closes), and reads
 * answers until `expected` are in, the server ends the connection, or the deadline passes.
 */
export function exchange(options: ExchangeOptions): Promise<ExchangeResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ port: options.port, host: '127.0.0.1', noDelay: true });
    const reader = new ResponseReader(options.bodyless);
    let answers = 0;
    let endedBy: ExchangeResult['endedBy'] | undefined;
    const finish = (by: ExchangeResult['endedBy']): void => {
      endedBy ??= by;
      socket.destroy();
    };
    const deliver = (parsed: { response: RawResponse; index: number }): void => {
      if (parsed.index >= 0) answers += 1;
      options.onResponse?.(parsed.response, parsed.index);
    };
    const timer = setTimeout(() => finish('deadline'), options.deadlineMs);
    socket.on('data', (chunk: Buffer) => {
      for (const parsed of reader.push(chunk)) deliver(parsed);
      if (reader.malformed !== undefined || (options.expected > 0 && answers >= options.expected)) finish('client');
    });
    socket.on('error', () => undefined); // a reset is the server ending it: reported by 'close'
    socket.on('close', () => {
      clearTimeout(timer);
      let leftover: Buffer = Buffer.alloc(0);
      if (endedBy === undefined || endedBy === 'server') {
        const last = reader.end();
        if (last.response !== undefined) deliver(last.response);
        leftover = last.leftover;
      }
      resolve({
        answers,
        endedBy: endedBy ?? 'server',
        leftover,
        ...(reader.malformed === undefined ? {} : { malformed: reader.malformed }),
        durationMs: performance.now() - started,
      });
    });
    socket.once('connect', () => {
      void writeAll(socket, options.payload).then(() => {
        if (options.halfClose === true && !socket.destroyed) socket.end();
      });
    });
  });
}

/** Writes each payload part in order, waiting for 'drain'; stops quietly once the socket is gone. */
async function writeAll(socket: Socket, payload: Payload[]): Promise<void> {
  for (const part of payload) {
    const pieces = Buffer.isBuffer(part) ? [part] : fillPieces(part);
    for (const piece of pieces) {
      if (socket.destroyed || !socket.writable) return;
      if (!socket.write(piece)) {
        const drained = await new Promise<boolean>((resolve) => {
          const done = (ok: boolean) => () => {
            socket.off('drain', onDrain);
            socket.off('close', onClose);
            resolve(ok);
          };
          const onDrain = done(true);
          const onClose = done(false);
          socket.once('drain', onDrain);
          socket.once('close', onClose);
        });
        if (!drained) return;
      }
    }
  }
}

function* fillPieces(part: { fill: string; bytes: number }): Generator<Buffer> {
  const unit = Buffer.from(part.fill, 'latin1');
  const piece = Buffer.alloc(Math.min(PIECE, part.bytes), unit);
  for (let left = part.bytes; left > 0; left -= piece.length) yield left >= piece.length ? piece : piece.subarray(0, left);
}


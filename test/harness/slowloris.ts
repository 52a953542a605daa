// Slowloris clients: connections that hold a server's slot by sending a header byte at a time, a
// partial header, nothing at all, or nothing after a first request. A pool keeps `count` of them
// open (a dropped one is replaced at once, as an attacker would) and records how long each lasted.
import { connect, type Socket } from 'node:net';

export type SlowKind = 'drip' | 'partial' | 'silent' | 'idle';

export interface SlowRecord {
  kind: SlowKind;
  /** performance.now() at connect and at close. */
  openedAt: number;
  closedAt: number;
  /** Whether it got connected at all. */
  connected: boolean;
  /** Who closed it: the server (close or reset), or the pool giving up at its deadline. */
  closedBy: 'server' | 'pool';
  /** What the server sent, latin1. */
  received: string;
  bytesSent: number;
}

export interface SlowlorisOptions {
  port: number;
  count: number;
  /** The kind of the i-th connection slot. */
  kindOf: (slot: number) => SlowKind;
  /** Milliseconds between two bytes of a drip connection in this slot. */
  dripEveryMs: (slot: number) => number;
  /** What a drip or partial connection starts with (a request line and some header). */
  opening: string;
  /** A complete request an idle connection sends first, before going quiet. */
  request: string;
  /** The pool's connections are opened over this long. */
  rampMs: number;
}

export class SlowlorisPool {
  readonly records: SlowRecord[] = [];
  private readonly live = new Set<Socket>();
  private connected = 0;
  private refilling = true;

  constructor(private readonly options: SlowlorisOptions) {}

  /** Opens the pool's connections over `rampMs`; resolves when all are connected. */
  async start(): Promise<void> {
    const { count, rampMs } = this.options;
    const opened: Promise<void>[] = [];
    for (let slot = 0; slot < count; slot++) {
      opened.push(this.open(slot));
      if (slot % 25 === 24) await new Promise((r) => setTimeout(r, (rampMs * 25) / count));
    }
    await Promise.all(opened);
  }

  /** Connections connected right now. */
  held(): number {
    return this.connected;
  }

  /** Stops replacing dropped connections and waits until the server has closed every one (or the deadline). */
  async stop(deadlineMs: number): Promise<SlowRecord[]> {
    this.refilling = false;
    await new Promise((r) => setTimeout(r, 0)); // replacements already scheduled see the flag
    const deadline = performance.now() + deadlineMs;
    while (this.live.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const socket of this.live) socket.destroy(new PoolGaveUp());
    while (this.live.size > 0) await new Promise((r) => setTimeout(r, 10));
    return this.records;
  }

  private open(slot: number): Promise<void> {
    const kind = this.options.kindOf(slot);
    const socket = connect({ port: this.options.port, host: '127.0.0.1' });
    this.live.add(socket);
    const record: SlowRecord = { kind, openedAt: performance.now(), closedAt: 0, connected: false, closedBy: 'server', received: '', bytesSent: 0 };
    let drip: NodeJS.Timeout | undefined;
    const send = (text: string): void => {
      if (socket.destroyed || !socket.writable) return;
      socket.write(text, 'latin1');
      record.bytesSent += text.length;
    };
    socket.setEncoding('latin1').on('data', (chunk: string) => (record.received += chunk));
    socket.on('error', (err) => {
      if (err instanceof PoolGaveUp) record.closedBy = 'pool';
    });
    const connected = new Promise<void>((resolve) => {
      socket.once('connect', () => {
        record.connected = true;
        this.connected += 1;
        record.openedAt = performance.now();
        if (kind === 'drip' || kind === 'partial') send(this.options.opening);
        if (kind === 'idle') send(this.options.request);
        if (kind === 'drip') drip = setInterval(() => send('a'), this.options.dripEveryMs(slot));
        resolve();
      });
      socket.once('close', () => resolve());
    });
    socket.once('close', () => {
      clearInterval(drip);
      if (record.connected) this.connected -= 1;
      record.closedAt = performance.now();
      this.records.push(record);
      this.live.delete(socket);
      // A refused connection is retried after a pause, not in a tight loop.
      if (!this.refilling) return;
      setTimeout(() => {
        if (this.refilling) void this.open(slot);
      }, record.connected ? 0 : 100);
    });
    return connected;
  }
}

class PoolGaveUp extends Error {
  constructor() {
    super('slowloris pool deadline');
  }
}

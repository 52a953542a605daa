// A TCP proxy on 127.0.0.1:<free port> that forwards to a server, and can be switched to behave like a silent
// network partition: every byte either way is held back (nothing answered, nothing closed, no reset), new
// connections are accepted and held the same way. Healing delivers what was held, in order, as TCP would once a
// partition ends. Stopping the server cannot show this: a stopped server refuses or resets at once.
import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface BlackholeProxy {
  port: number;
  /** From now on nothing passes either way, until heal(). */
  swallow(): void;
  /** Passes on everything held back, then forwards again. */
  heal(): void;
  /** Closes every connection and the listener. */
  stop(): Promise<void>;
}

/** One direction of one connection: written through, or held while the proxy swallows. */
class Pipe {
  private held: Buffer[] = [];

  constructor(
    private readonly to: Socket,
    private readonly swallowing: () => boolean,
  ) {}

  push(chunk: Buffer): void {
    if (this.swallowing()) this.held.push(chunk);
    else this.to.write(chunk);
  }

  flush(): void {
    for (const chunk of this.held.splice(0)) this.to.write(chunk);
  }
}

export async function startBlackholeProxy(targetPort: number): Promise<BlackholeProxy> {
  let swallowing = false;
  const pipes = new Set<Pipe>();
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    track(client);
    track(upstream);
    const up = new Pipe(upstream, () => swallowing);
    const down = new Pipe(client, () => swallowing);
    pipes.add(up).add(down);
    client.on('data', (chunk: Buffer) => up.push(chunk));
    upstream.on('data', (chunk: Buffer) => down.push(chunk));
    const close = (): void => {
      pipes.delete(up);
      pipes.delete(down);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close);
    upstream.on('close', close);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    swallow() {
      swallowing = true;
    },
    heal() {
      swallowing = false;
      for (const pipe of pipes) pipe.flush();
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// The self-check ends a fetch that hangs as soon as the run's signal fires, with the signal's own reason.
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, test } from 'node:test';

import { selfCheck } from '../../src/challenge/self-check.js';

describe('selfCheck and the signal', () => {
  test('a fetch that never gets an answer ends when the signal fires, rejecting with its reason', async () => {
    const sockets = new Set<Socket>();
    // Accepts and never answers: without the signal the check would wait for its whole timeout.
    const silent = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const controller = new AbortController();
    const reason = new Error('cancelled');
    try {
      const checking = selfCheck('a.example.test', 'token', 'token.thumb', {
        port,
        lookup: async () => ['127.0.0.1'],
        timeoutMs: 3_600_000,
        signal: controller.signal,
      });
      while (sockets.size === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      controller.abort(reason);
      await assert.rejects(checking, (err: unknown) => err === reason);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

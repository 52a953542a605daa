/**
 * The Redis store's change feed: save() and delete() publish the lineage's name on `<prefix>changes` inside their
 * Lua script (scripts.ts), so the message leaves Redis in the same atomic step as the write and a node that reads
 * the lineage on receipt sees it. Pub/sub delivers nothing sent while a subscriber is disconnected: the feed says
 * when its connection is lost and when it is back, and its user reads everything again then.
 */
import { CertmanError, messageOf } from '../../errors.js';
import { isValidName } from '../fs/names.js';
import type { ChangeFeed, ChangeFeedState } from '../types.js';
import { COMMAND_TIMEOUT_MS, untilAborted, type RedisClient } from './connection.js';

export async function watchRedisChanges(
  client: RedisClient,
  channel: string,
  onChange: (name: string) => void,
  onState: (state: ChangeFeedState) => void = () => undefined,
): Promise<ChangeFeed> {
  // A subscribed connection runs no other command: a second one, with the store connection's URL and options,
  // reconnecting and subscribing again on its own.
  const subscriber = client.duplicate();
  let down = false;
  let closed = false;
  subscriber.on('error', (error: unknown) => {
    if (down || closed) return;
    down = true;
    onState({ state: 'down', error });
  });
  // 'ready' follows every (re)connection, once the subscription is renewed.
  subscriber.on('ready', () => {
    if (!down || closed) return;
    down = false;
    onState({ state: 'up' });
  });
  try {
    await untilAborted(
      (async () => {
        await subscriber.connect();
        // Anyone who can publish on the channel can send anything: only a lineage name is a change.
        await subscriber.subscribe(channel, (message: string) => {
          if (isValidName(message)) onChange(message);
        });
      })(),
      AbortSignal.timeout(COMMAND_TIMEOUT_MS),
    );
  } catch (err) {
    closed = true;
    subscriber.destroy();
    throw new CertmanError(`cannot watch the Redis store for changes: ${messageOf(err)}`, { cause: err });
  }
  return {
    close: async () => {
      closed = true;
      // Bounded like every Redis wait: with Redis unreachable a polite close would wait for ever.
      await untilAborted(subscriber.close(), AbortSignal.timeout(COMMAND_TIMEOUT_MS)).catch(() => subscriber.destroy());
    },
  };
}

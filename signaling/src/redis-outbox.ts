/**
 * Relays from one Redis-bus instance to others, queued within a tick and sent
 * as one PUBLISH per target instance (lines joined by newlines; JSON text has
 * none). A relay to a known remote peer is accepted at once; if its instance
 * turns out to be gone (no subscriber), the signals are lost with it and
 * `onGone` forgets where that instance's peers were.
 */
import type { Redis } from 'ioredis';

export interface Outbox {
  queue(instance: string, line: string): void;
}

export function createOutbox(
  redis: Redis,
  channelOf: (instance: string) => string,
  onGone: (instance: string) => void,
): Outbox {
  const pending = new Map<string, string[]>();
  function flush(): void {
    for (const [instance, lines] of pending) {
      redis.publish(channelOf(instance), lines.join('\n')).then(
        (receivers) => {
          if (receivers === 0) onGone(instance);
        },
        () => {},
      );
    }
    pending.clear();
  }
  return {
    queue(instance, line) {
      let lines = pending.get(instance);
      if (!lines) {
        if (pending.size === 0) setImmediate(flush);
        lines = [];
        pending.set(instance, lines);
      }
      lines.push(line);
    },
  };
}

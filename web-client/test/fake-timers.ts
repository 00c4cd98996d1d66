import type { Timers } from '@peergrid/shared';

/** Virtual timers for unit tests: `advance(ms)` fires what is due, earliest first. */
export function fakeTimers() {
  let next = 1;
  let now = 0;
  const pending = new Map<number, { fn: () => void; at: number }>();
  const timers: Timers = {
    setTimeout: (fn, ms) => {
      const id = next++;
      pending.set(id, { fn, at: now + ms });
      return id;
    },
    clearTimeout: (h) => void pending.delete(h as number),
  };
  const advance = (ms: number) => {
    now += ms;
    for (const [id, p] of [...pending].sort((a, b) => a[1].at - b[1].at)) {
      if (p.at > now) continue;
      pending.delete(id);
      p.fn();
    }
  };
  return { timers, advance, pending: () => pending.size };
}

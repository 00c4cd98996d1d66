import { describe, expect, it } from 'vitest';
import { createHiddenTabTimers, type TimerWorkerLike } from '../src/grid/hidden-timers.ts';

/** A timer worker in memory: records what the page asks; `fire` answers its latest set. */
function fakeWorker() {
  const asks: ({ set: number; ms: number } | { clear: number })[] = [];
  const worker: TimerWorkerLike = {
    onmessage: null,
    postMessage: (m) => void asks.push(m),
  };
  const fired = new Set<number>();
  /** Timeouts the worker holds: set, not cleared, not fired. */
  const live = () => {
    const cleared = new Set(asks.flatMap((a) => ('clear' in a ? [a.clear] : [])));
    return asks.flatMap((a) => ('set' in a && !cleared.has(a.set) && !fired.has(a.set) ? [a] : []));
  };
  const fire = (set: number) => {
    fired.add(set);
    worker.onmessage?.({ data: set } as MessageEvent<number>);
  };
  return { worker, asks, live, fire };
}

describe('hidden-tab timers', () => {
  it('keeps one timeout in the worker: later ones and clears cost no message', () => {
    const clock = { t: 0 };
    const w = fakeWorker();
    const timers = createHiddenTabTimers({
      hidden: () => true,
      startWorker: () => w.worker,
      now: () => clock.t,
    });
    const ran: string[] = [];
    timers.setTimeout(() => ran.push('beat'), 1000);
    expect(w.asks).toEqual([{ set: 1, ms: 1000 }]);
    // A deferred ack per lease, cleared when its result goes first: one earlier ask, then none.
    const acks = Array.from({ length: 50 }, (_, i) => {
      clock.t = i;
      return timers.setTimeout(() => ran.push(`ack${i}`), 100);
    });
    expect(w.asks).toEqual([{ set: 1, ms: 1000 }, { clear: 1 }, { set: 2, ms: 100 }]);
    for (const a of acks.slice(0, 49)) timers.clearTimeout(a);
    expect(w.asks).toHaveLength(3);
    // The worker's timeout finds nothing due, and asks for the next one.
    clock.t = 100;
    w.fire(2);
    expect(ran).toEqual([]);
    expect(w.live()).toEqual([{ set: 3, ms: 49 }]);
    clock.t = 149;
    w.fire(3);
    expect(ran).toEqual(['ack49']);
    expect(w.live()).toEqual([{ set: 4, ms: 851 }]);
    clock.t = 1000;
    w.fire(4);
    expect(ran).toEqual(['ack49', 'beat']);
    expect(w.live()).toEqual([]);
  });

  it('runs what is due in order, also timeouts set from a running one, and ignores stale asks', () => {
    const clock = { t: 0 };
    const w = fakeWorker();
    const timers = createHiddenTabTimers({
      hidden: () => true,
      startWorker: () => w.worker,
      now: () => clock.t,
    });
    const ran: string[] = [];
    timers.setTimeout(() => ran.push('b'), 20);
    timers.setTimeout(() => {
      ran.push('a');
      timers.setTimeout(() => ran.push('c'), 5);
    }, 10);
    expect(w.live()).toEqual([{ set: 2, ms: 10 }]);
    w.fire(1); // replaced by the earlier ask: nothing runs
    expect(ran).toEqual([]);
    clock.t = 20;
    w.fire(2);
    expect(ran).toEqual(['a', 'b']);
    expect(w.live()).toEqual([{ set: 3, ms: 5 }]);
    clock.t = 25;
    w.fire(3);
    expect(ran).toEqual(['a', 'b', 'c']);
  });

  it('uses the tab’s own timers while visible', async () => {
    const w = fakeWorker();
    const timers = createHiddenTabTimers({ hidden: () => false, startWorker: () => w.worker });
    const ran = await new Promise<boolean>((r) => timers.setTimeout(() => r(true), 1));
    expect(ran).toBe(true);
    expect(w.asks).toEqual([]);
  });
});

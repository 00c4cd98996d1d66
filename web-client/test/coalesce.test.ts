import { describe, expect, it } from 'vitest';
import { coalesce, once } from '../src/state/coalesce.ts';
import { fakeTimers } from './fake-timers.ts';

describe('coalesce', () => {
  it('runs a burst of requests once, after the burst', () => {
    const t = fakeTimers();
    let runs = 0;
    const c = coalesce(() => runs++, 0, t.timers);
    for (let i = 0; i < 21; i++) c.schedule();
    expect(runs).toBe(0);
    t.advance(0);
    expect(runs).toBe(1);
    c.schedule();
    t.advance(0);
    expect(runs).toBe(2);
  });

  it('waits delayMs and can be cancelled', () => {
    const t = fakeTimers();
    let runs = 0;
    const c = coalesce(() => runs++, 150, t.timers);
    c.schedule();
    t.advance(100);
    c.schedule();
    expect(runs).toBe(0);
    t.advance(50);
    expect(runs).toBe(1);
    c.schedule();
    c.cancel();
    t.advance(1000);
    expect(runs).toBe(1);
    expect(t.pending()).toBe(0);
  });
});

describe('once', () => {
  it('runs at the first trigger, never again, and drops its fallback', () => {
    const t = fakeTimers();
    let runs = 0;
    const o = once(() => runs++, 3000, t.timers);
    o.trigger();
    o.trigger();
    t.advance(5000);
    expect(runs).toBe(1);
    expect(t.pending()).toBe(0);
  });

  it('runs after the fallback delay when never triggered', () => {
    const t = fakeTimers();
    let runs = 0;
    const o = once(() => runs++, 3000, t.timers);
    t.advance(2999);
    expect(runs).toBe(0);
    t.advance(1);
    expect(runs).toBe(1);
    o.trigger();
    expect(runs).toBe(1);
  });
});

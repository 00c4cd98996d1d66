import type { ExecRequest } from '@peergrid/shared';
import { tensorFrom } from '@peergrid/shared';
import { describe, expect, it } from 'vitest';
import { localWorkerHandle } from '../src/exec/run-inbox.ts';
import { createWorkerPool } from '../src/exec/worker-pool.ts';
import { appendCreditPoint, type CreditPoint, gridsServed } from '../src/grid/credit-history.ts';
import {
  createTabRules,
  IN_USE_MS,
  type TabRuleState,
  tabPauseReason,
} from '../src/grid/tab-rules.ts';
import { fakeTimers } from './fake-timers.ts';

class FakeBattery extends EventTarget {
  charging = true;
  set(on: boolean) {
    this.charging = on;
    this.dispatchEvent(new Event('chargingchange'));
  }
}

function page(o: { battery?: FakeBattery; idle?: 'granted' | 'denied' } = {}) {
  const target = new EventTarget();
  const doc = Object.assign(new EventTarget(), { visibilityState: 'visible' });
  const clock = { t: 0 };
  let detector: (EventTarget & { userState: 'active' | 'idle' | null }) | undefined;
  class Detector extends EventTarget {
    userState: 'active' | 'idle' | null = 'active';
    static requestPermission = async () => o.idle ?? 'denied';
    async start() {
      detector = this;
    }
  }
  const states: TabRuleState[] = [];
  const ft = fakeTimers();
  const rules = createTabRules({
    timers: ft.timers,
    now: () => clock.t,
    onChange: (s) => states.push(s),
    env: {
      ...(o.battery ? { getBattery: async () => o.battery! } : {}),
      ...(o.idle ? { IdleDetector: Detector } : {}),
      target,
      document: doc,
    },
  });
  const pass = (ms: number) => {
    clock.t += ms;
    ft.advance(ms);
  };
  return { rules, states, target, pass, detector: () => detector };
}

describe('tab rules', () => {
  it('only while charging: pauses on battery, and is unavailable without the Battery API', async () => {
    const battery = new FakeBattery();
    const p = page({ battery });
    expect(await p.rules.batteryReady).toBe(true);
    p.rules.setOnlyWhileCharging(true);
    expect(tabPauseReason(p.rules.state())).toBeNull();
    battery.set(false);
    expect(tabPauseReason(p.rules.state())).toBe('on battery');
    expect(p.states.at(-1)?.charging).toBe(false);
    battery.set(true);
    expect(tabPauseReason(p.rules.state())).toBeNull();
    const none = page();
    expect(await none.rules.batteryReady).toBe(false);
    none.rules.setOnlyWhileCharging(true);
    // No API: the state says unknown and the rule never pauses (the control is hidden).
    expect(none.rules.state().charging).toBeNull();
    expect(tabPauseReason(none.rules.state())).toBeNull();
  });

  it('in use, without Idle Detection: input in this tab pauses, a quiet minute resumes', async () => {
    const p = page({ idle: 'denied' });
    await p.rules.setPauseWhileInUse(true);
    expect(p.rules.state().inUseSource).toBe('this-tab');
    // The click that turned it on counts as use.
    expect(tabPauseReason(p.rules.state())).toMatch(/in use \(input in this tab\)/);
    p.pass(IN_USE_MS + 5000);
    expect(tabPauseReason(p.rules.state())).toBeNull();
    expect(p.states.at(-1)?.inUse).toBe(false);
    p.target.dispatchEvent(new Event('keydown'));
    expect(p.states.at(-1)?.inUse).toBe(true);
    await p.rules.setPauseWhileInUse(false);
    p.target.dispatchEvent(new Event('keydown'));
    expect(tabPauseReason(p.rules.state())).toBeNull();
  });

  it('in use, with Idle Detection granted: follows its user state', async () => {
    const p = page({ idle: 'granted' });
    await p.rules.setPauseWhileInUse(true);
    expect(p.rules.state().inUseSource).toBe('idle-detection');
    expect(tabPauseReason(p.rules.state())).toBe('this computer is in use');
    const d = p.detector()!;
    d.userState = 'idle';
    d.dispatchEvent(new Event('change'));
    expect(p.states.at(-1)?.inUse).toBe(false);
    // Input in this tab no longer decides.
    p.target.dispatchEvent(new Event('keydown'));
    expect(tabPauseReason(p.rules.state())).toBeNull();
  });
});

describe('credit history', () => {
  const pt = (t: number, verifiedMs: number, grid = 'g'): CreditPoint => ({
    t,
    grid,
    accepted: verifiedMs / 10,
    verifiedMs,
    rejected: 0,
  });
  it('keeps one point per bucket and grid, thins the old half past the cap, and credits each grid its growth', () => {
    let h: CreditPoint[] = [];
    h = appendCreditPoint(h, pt(0, 0), { bucketMs: 1000 });
    h = appendCreditPoint(h, pt(100, 10), { bucketMs: 1000 });
    h = appendCreditPoint(h, pt(200, 20), { bucketMs: 1000 });
    expect(h.map((p) => p.t)).toEqual([0, 200]);
    h = appendCreditPoint(h, pt(1500, 50, 'other'), { bucketMs: 1000 });
    h = appendCreditPoint(h, pt(2500, 80, 'other'), { bucketMs: 1000 });
    expect(gridsServed(h)).toEqual([
      { grid: 'other', accepted: 6, verifiedMs: 60, rejected: 0 },
      { grid: 'g', accepted: 2, verifiedMs: 20, rejected: 0 },
    ]);
    let many: CreditPoint[] = [];
    for (let i = 0; i < 50; i++)
      many = appendCreditPoint(many, pt(i * 10_000, i), { maxPoints: 20 });
    expect(many.length).toBeLessThanOrEqual(20);
    expect(many.at(-1)?.verifiedMs).toBe(49);
    expect(many.map((p) => p.t)).toEqual([...many.map((p) => p.t)].sort((a, b) => a - b));
  });
});

describe('worker pool busy time', () => {
  it('sums each worker from dispatch to reply, running tasks up to now', async () => {
    const clock = { t: 0 };
    const release: (() => void)[] = [];
    const pool = createWorkerPool({
      size: 2,
      init: { ortBase: '', threads: 1, gpu: false } as never,
      timers: fakeTimers().timers,
      now: () => clock.t,
      spawn: () =>
        localWorkerHandle({
          init: async () => ({ backends: ['wasm'], threads: 1 }),
          run: () =>
            new Promise((r) =>
              release.push(() =>
                r({ ok: true, value: { outputs: {}, backend: 'wasm', computeMs: 1 } }),
              ),
            ),
          inspect: async () => ({ ok: false, error: { code: 'x', message: 'x' } }),
          warm: async () => ({ ok: true, value: undefined }),
        }),
    });
    const req: ExecRequest = {
      modelHash: 'm',
      model: new Uint8Array(1),
      feeds: { x: tensorFrom('float32', [1], new Float32Array(1)) },
      timeoutMs: 60_000,
    };
    const a = pool.run(req);
    const b = pool.run(req);
    await new Promise((r) => setTimeout(r, 10));
    clock.t = 300;
    expect(pool.state().busyMs).toBe(600);
    release[0]!();
    await a;
    clock.t = 500;
    expect(pool.state().busyMs).toBe(800);
    release[1]!();
    await b;
    clock.t = 900;
    expect(pool.state().busyMs).toBe(800);
  });
});

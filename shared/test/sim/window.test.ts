import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/platform.ts';
import { capacityBy, idealMakespan } from '../../src/sim/ideal.ts';
import { runSimulation, type SimOptions, type TaskEvent } from '../../src/sim/sim.ts';
import { createDonors } from '../../src/sim/sim-donors.ts';

/** No churn, no saboteurs: what is left of the makespan is the scheduler's. */
const calm = { f: 0, churn: false, seed: 5 } as const;

/** Runs a case, recounting from the trace what each donor runs and holds at once. */
function traced(o: SimOptions) {
  const running = new Map<number, number>();
  let overSlots = 0;
  let maxHeld = 0;
  let queuedBehindBusy = 0;
  let leaves = 0;
  const onTask = (e: TaskEvent) => {
    if (e.type === 'leave') {
      leaves++;
      running.set(e.donor, 0);
      return;
    }
    const n = (running.get(e.donor) ?? 0) + (e.type === 'start' ? 1 : -1);
    running.set(e.donor, n);
    expect(n).toBe(e.running);
    if (n > e.slots) overSlots++;
    if (n < 0) overSlots++;
    maxHeld = Math.max(maxHeld, n + e.queued);
    if (e.type === 'start' && n === e.slots && e.queued > 0) queuedBehindBusy++;
  };
  const r = runSimulation({ ...o, onTask });
  return { r, overSlots, maxHeld, queuedBehindBusy, leaves };
}

describe('lease windows in the simulator', () => {
  const far = { ...calm, tasks: 3000, donors: 30, taskMs: 5, latencyMs: [150, 300] } as const;

  it('hides a long round trip behind short tasks that one lease per slot cannot', () => {
    const fixed = traced({ ...far, window: 'fixed' });
    const lease = traced({ ...far, window: 'lease' });
    for (const x of [fixed, lease]) {
      expect(x.r.openTasks).toBe(0);
      expect(x.r.failedTasks).toBe(0);
      expect(x.leaves).toBe(0); // no churn
    }
    // One lease per slot idles each slot a round trip (300–600 ms) per 5 ms task.
    expect(fixed.r.workRatio).toBeGreaterThan(20);
    expect(lease.r.workRatio).toBeLessThan(2);
    expect(lease.r.workRatio).toBeLessThan(fixed.r.workRatio / 10);
    expect(lease.r.makespanRatio).toBeLessThan(fixed.r.makespanRatio / 5);
    // Sized from the measured round trip and compute time: far more than the slots (1–2).
    expect(fixed.r.meanWindow).toBeLessThanOrEqual(2);
    expect(lease.r.meanWindow).toBeGreaterThan(50);
    expect(lease.r.meanWindow).toBeLessThanOrEqual(256);
  });

  it('never runs more than a donor’s slots at once, and queues the rest', () => {
    const lease = traced({ ...far, window: 'lease' });
    expect(lease.overSlots).toBe(0);
    // The window's leases wait in the donor's queue behind busy slots.
    expect(lease.queuedBehindBusy).toBeGreaterThan(1000);
    expect(lease.maxHeld).toBeGreaterThan(50);
    const fixed = traced({ ...far, window: 'fixed' });
    expect(fixed.overSlots).toBe(0);
    // One lease per slot: nothing ever waits.
    expect(fixed.maxHeld).toBeLessThanOrEqual(2);
    expect(fixed.queuedBehindBusy).toBe(0);
  });

  it('re-offers a donor when its window moves, not on every result', () => {
    const r = runSimulation({ ...far, window: 'lease' });
    expect(r.windowOffers).toBeGreaterThanOrEqual(far.donors); // each grew at least once
    expect(r.windowOffers).toBeLessThan(r.tasks * r.resultsPerTask * 0.05);
    expect(runSimulation({ ...far, window: 'fixed' }).windowOffers).toBe(0);
  });

  it('meets the goals at the default latencies: ≤ 1.3 × ideal for 20 ms tasks, ≤ 2 for 2 ms', () => {
    const o = { ...calm, tasks: 10000, donors: 50, seed: 1 } as const;
    const at20 = runSimulation({ ...o, taskMs: 20 });
    const at2 = runSimulation({ ...o, taskMs: 2 });
    expect(at20.workRatio).toBeLessThanOrEqual(1.3);
    expect(at2.workRatio).toBeLessThanOrEqual(2);
    expect(runSimulation({ ...o, taskMs: 20, window: 'fixed' }).workRatio).toBeGreaterThan(3);
    // Long tasks lose little either way.
    expect(runSimulation({ ...o, tasks: 3000, taskMs: 1000 }).workRatio).toBeLessThan(1.1);
  });

  it('keeps saboteurs out of accepted results with windows on', () => {
    const r = runSimulation({
      tasks: 3000,
      donors: 30,
      f: 0.2,
      adversary: 'naive',
      taskMs: 20,
      seed: 3,
    });
    expect(r.window).toBe('lease');
    expect(r.liesTold).toBeGreaterThan(0);
    expect(r.acceptedWrong).toBe(0);
    expect(r.excludedHonest).toBe(0);
    expect(r.openTasks).toBe(0);
  });

  it('draws one-way latencies from the range asked for', () => {
    const { donors } = createDonors(seededRandom(2), {
      donors: 40,
      saboteurs: 0,
      anchor: false,
      taskMs: 10,
      latencyMs: [200, 400],
    });
    for (const d of donors) {
      expect(d.latency).toBeGreaterThanOrEqual(200);
      expect(d.latency).toBeLessThanOrEqual(400);
    }
    const alike = createDonors(seededRandom(2), {
      donors: 5,
      saboteurs: 0,
      anchor: false,
      taskMs: 10,
      latencyMs: [80, 80],
    });
    expect(alike.donors.map((d) => d.latency)).toEqual([80, 80, 80, 80, 80]);
    const r = runSimulation({ ...calm, tasks: 200, donors: 5, latencyMs: [80, 80] });
    expect(r.latencyMs).toEqual([80, 80]);
  });
});

describe('ideal makespan', () => {
  const spell = { from: 0, to: Number.POSITIVE_INFINITY, rate: 1, latency: 10 };

  it('adds a latency out and a latency back to the work', () => {
    expect(idealMakespan([spell], 100)).toBeCloseTo(120, 3);
    expect(idealMakespan([spell, { ...spell, from: 50 }], 100)).toBeCloseTo(95, 3);
    expect(idealMakespan([spell], 0)).toBe(0);
  });

  it('counts a donor only while it was online', () => {
    // Online 0–60: 50 tasks by then; the other, from 100, does the other 50.
    const closed = { ...spell, to: 60 };
    expect(capacityBy([closed], 1000)).toBeCloseTo(50, 6);
    expect(idealMakespan([closed, { ...spell, from: 100 }], 100)).toBeCloseTo(170, 3);
    expect(idealMakespan([closed], 100)).toBe(Number.POSITIVE_INFINITY);
  });
});

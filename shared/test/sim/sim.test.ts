import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/platform.ts';
import { createEventQueue } from '../../src/sim/event-queue.ts';
import { runSimulation } from '../../src/sim/sim.ts';
import { createDonors } from '../../src/sim/sim-donors.ts';

describe('simulator', () => {
  it('orders events by time, FIFO among equals', () => {
    const q = createEventQueue();
    const seen: string[] = [];
    for (const [at, x] of [
      [5, 'c'],
      [1, 'a'],
      [5, 'd'],
      [2, 'b'],
    ] as const)
      q.push(at, () => seen.push(x));
    for (let e = q.pop(); e; e = q.pop()) e.run();
    expect(seen).toEqual(['a', 'b', 'c', 'd']);
  });

  for (const s of [1, 0.1]) {
    it(`keeps colluding saboteurs (f=0.2, s=${s}) out of accepted results at a bounded cost`, () => {
      const r = runSimulation({ tasks: 4000, donors: 30, f: 0.2, adversary: 'naive', s, seed: 3 });
      expect(r.acceptedWrong).toBe(0);
      expect(r.resultsPerTaskAfterWarmup).toBeLessThanOrEqual(2.3);
      expect(r.failedTasks).toBe(0);
      expect(r.openTasks).toBe(0);
      expect(r.excludedHonest).toBe(0);
      expect(r.excludedSaboteurs).toBeGreaterThan(0);
      expect(r.audits.issued).toBeGreaterThan(0);
      expect(r.makespanRatio).toBeGreaterThan(1);
      expect(r.liesKept).toBe(r.liesTold - r.liesCaught);
    });
  }

  it('catches colluders that lie only when they hold every lease', () => {
    const r = runSimulation({ tasks: 6000, donors: 100, f: 0.2, adversary: 'collude', seed: 4 });
    expect(r.liesTold).toBeGreaterThan(50);
    // A caught lie sends its liar to probation, and what it backed is weighed again.
    expect(r.liesCaught / r.liesTold).toBeGreaterThanOrEqual(0.95);
    expect(r.acceptedWrongRate).toBeLessThanOrEqual(1e-3);
    expect(r.excludedHonest).toBe(0);
    expect(r.excludedSaboteurs).toBeGreaterThan(0);
  });

  it('brings excluded saboteurs back under fresh identities (whitewashing)', () => {
    const o = {
      tasks: 3000,
      donors: 30,
      f: 0.2,
      adversary: 'naive',
      seed: 3,
      rejoinMs: 5_000,
    } as const;
    const r = runSimulation(o);
    expect(r.saboteurIdentities).toBeGreaterThan(6);
    // The fresh identities lie too, and are excluded in turn.
    expect(r.excludedSaboteurs).toBeGreaterThan(6);
    expect(r.excludedHonest).toBe(0);
    const stay = runSimulation({ ...o, whitewash: false });
    expect(stay.saboteurIdentities).toBe(6);
    expect(stay.excludedSaboteurs).toBeLessThanOrEqual(6);
  });

  it('lets a rare liar lie once per identity', () => {
    const r = runSimulation({ tasks: 3000, donors: 30, f: 0.2, adversary: 'rare', seed: 2 });
    // Never more lies than identities (none at all where no saboteur is trusted within the job).
    expect(r.liesTold).toBeLessThanOrEqual(r.saboteurIdentities);
    expect(r.liesFloor).toBeLessThanOrEqual(r.liesKept);
  });

  it('makes one honest donor the anchor: speed 1, two slots', () => {
    const { donors } = createDonors(seededRandom(1), {
      donors: 20,
      saboteurs: 4,
      anchor: true,
      taskMs: 1000,
    });
    const anchors = donors.filter((d) => d.anchor);
    expect(anchors).toHaveLength(1);
    expect(anchors[0]!.saboteur).toBe(false);
    expect(anchors[0]!.speed).toBe(1);
    expect(anchors[0]!.caps.maxConcurrency).toBe(2);
    expect(donors.filter((d) => d.saboteur)).toHaveLength(4);
    const none = createDonors(seededRandom(1), {
      donors: 20,
      saboteurs: 4,
      anchor: false,
      taskMs: 1000,
    });
    expect(none.donors.some((d) => d.anchor)).toBe(false);
  });
});

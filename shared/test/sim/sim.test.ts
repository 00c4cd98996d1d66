import { describe, expect, it } from 'vitest';
import { createEventQueue } from '../../src/sim/event-queue.ts';
import { runSimulation } from '../../src/sim/sim.ts';

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
    it(`keeps colluding saboteurs (f=0.2, s=${s}) out of accepted results at a low cost`, () => {
      const r = runSimulation({ tasks: 4000, donors: 30, f: 0.2, s, colluding: true, seed: 3 });
      expect(r.acceptedWrongRate).toBeLessThanOrEqual(1e-3);
      expect(r.resultsPerTask).toBeLessThanOrEqual(2.3);
      expect(r.resultsPerTaskAfterWarmup).toBeLessThanOrEqual(1.3);
      expect(r.failedTasks).toBe(0);
      expect(r.excludedHonest).toBe(0);
      expect(r.excludedSaboteurs).toBeGreaterThan(0);
      expect(r.makespanRatio).toBeGreaterThan(1);
    });
  }

  it('keeps rare liars from earning single replicas within a short job', () => {
    // Saboteurs lying on 10% of their results pass a short clean streak easily: with the
    // old threshold of 10 they were trusted, ran tasks alone, and some lies outlived the job.
    const run = (trustAfterStreak: number) =>
      runSimulation({
        tasks: 2000,
        donors: 50,
        f: 0.2,
        s: 0.1,
        colluding: true,
        seed: 1,
        reputation: { trustAfterStreak },
      });
    expect(run(10).acceptedWrong).toBeGreaterThan(0);
    const r = runSimulation({ tasks: 2000, donors: 50, f: 0.2, s: 0.1, colluding: true, seed: 1 });
    expect(r.acceptedWrong).toBe(0);
    expect(r.failedTasks).toBe(0);
    expect(r.resultsPerTask).toBeLessThanOrEqual(2.3);
  });

  it('shows plain 2-of-2 voting letting colluders through', () => {
    const r = runSimulation({
      tasks: 2000,
      donors: 30,
      f: 0.2,
      s: 1,
      colluding: true,
      seed: 3,
      policy: { adaptive: false, spotCheckRate: 0, probationSpotCheckRate: 0 },
      // No blacklisting of persistent outliers either: plain voting only.
      reputation: { excludeAfterLostInRow: Number.POSITIVE_INFINITY },
    });
    expect(r.acceptedWrongRate).toBeGreaterThan(0.01);
    expect(r.resultsPerTask).toBeGreaterThan(2);
  });
});

import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/platform.ts';
import { runSimulation } from '../../src/sim/sim.ts';
import { parseSimArgs } from '../../src/sim/sim-args.ts';
import { createDonors } from '../../src/sim/sim-donors.ts';

/** No saboteurs, no churn: only placement and the tail count. */
const calm = { f: 0, churn: false, seed: 2, tasks: 3000, donors: 40 } as const;

describe('the simulator on mixed-speed grids', () => {
  it('draws donor speeds log-uniform over the spread, and saboteurs overclaim', () => {
    for (const spread of [4, 20, 100]) {
      const { donors } = createDonors(seededRandom(1), {
        donors: 400,
        saboteurs: 80,
        anchor: false,
        taskMs: 1000,
        speedSpread: spread,
      });
      const speeds = donors.map((d) => d.speed);
      const ratio = Math.max(...speeds) / Math.min(...speeds);
      expect(ratio).toBeLessThanOrEqual(spread);
      expect(ratio).toBeGreaterThan(spread * 0.8);
      for (const d of donors) {
        const claim = d.caps.speed?.wasm ?? 0;
        expect(claim).toBeCloseTo((d.saboteur ? 10 : 1) * (1000 / (1000 * d.speed)));
      }
    }
  });

  it('keeps placement efficiency within 1.10 at a 20x spread and 1.2 at 100x', () => {
    for (const [spread, bound] of [
      [20, 1.1],
      [100, 1.2],
    ] as const) {
      const r = runSimulation({ ...calm, speedSpread: spread });
      expect(r.openTasks).toBe(0);
      expect(r.failedTasks).toBe(0);
      expect(r.placementRatio).toBeGreaterThanOrEqual(0.95);
      expect(r.placementRatio).toBeLessThanOrEqual(bound);
      expect(r.speedSpread).toBe(spread);
    }
  });

  it('parses --speed-spread into cases, and refuses spreads under 1', () => {
    const a = parseSimArgs(['--speed-spread', '4,20,100']);
    expect(typeof a === 'object' && a.speedSpreads).toEqual([4, 20, 100]);
    const d = parseSimArgs([]);
    expect(typeof d === 'object' && d.speedSpreads).toEqual([undefined]);
    expect(parseSimArgs(['--speed-spread', '0.5'])).toMatch(/bad --speed-spread/);
    expect(parseSimArgs(['--speed-spread', 'x'])).toMatch(/bad --speed-spread/);
  });
});

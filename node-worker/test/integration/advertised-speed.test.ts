/**
 * A worker tells the grid its measured speed once it has run a few tasks:
 * its presence, as the submitter sees it, gains `capabilities.speed` for the
 * backend it ran on, a figure in the range of its own tasks' compute time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMatmulJob } from '../../src/workloads/index.ts';
import { runJob, startTestGrid, type TestGrid, until } from './grid-harness.ts';

describe('advertised speed', () => {
  let grid: TestGrid;
  beforeAll(async () => {
    grid = await startTestGrid([{}]);
  }, 90_000);
  afterAll(async () => {
    await grid?.close();
  }, 30_000);

  it('is measured from the first tasks and told with the capabilities', async () => {
    const id = grid.workers[0]!.id()!;
    const info = () => grid.submitter.signaling.peers().get(id);
    expect(info()?.capabilities.speed).toBeUndefined();
    const wl = createMatmulJob({ preset: 'ms2', tasks: 12, seed: 2 });
    // The worker is the job's anchor, so its results are final alone.
    const out = await runJob(grid.submitter, { ...wl.spec, policy: { trustedDonors: [id] } });
    expect(out.state).toBe('completed');
    await until(() => (info()?.capabilities.speed?.cpu ?? 0) > 0, 15_000, 'a speed');
    const tps = info()!.capabilities.speed!.cpu!;
    // ~2 ms tasks: hundreds per second per slot, give or take this box's load.
    expect(tps).toBeGreaterThan(10);
    expect(tps).toBeLessThan(100_000);
  }, 120_000);
});

/**
 * Fair share between submitters (issue 14, item 5): two `peergrid` CLI
 * submitters on the same 2 node workers. While both run, each gets 40–60 %
 * of the verified tasks per second: each worker takes its submitters' leases
 * in turn (round-robin by submitter) and offers each an equal part of its
 * queue. Prints the split (one JSON line).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './cli-harness.ts';
import { startTestGrid, type TestGrid } from './grid-harness.ts';

const TASKS = 600;

/** (time, verified) samples of one CLI's progress lines. */
type Samples = [number, number][];

/** Verified count at time t, interpolated between samples. */
function at(s: Samples, t: number): number {
  let prev: [number, number] = [s[0]![0], 0];
  for (const cur of s) {
    if (cur[0] >= t) {
      const span = cur[0] - prev[0];
      return span <= 0 ? cur[1] : prev[1] + ((cur[1] - prev[1]) * (t - prev[0])) / span;
    }
    prev = cur;
  }
  return prev[1];
}

describe('fair share between submitters', () => {
  let grid: TestGrid;
  beforeAll(async () => {
    grid = await startTestGrid([{ concurrency: 1 }, { concurrency: 1 }]);
  }, 90_000);
  afterAll(async () => {
    await grid?.close();
  }, 30_000);

  it('gives two CLI submitters on the same 2 workers 40–60 % of the verified tasks each', async () => {
    const run = (name: string) =>
      cli(
        [
          'run',
          ...['--signal', grid.signalUrl, '--grid', grid.grid],
          ...['--workload', 'matmul', '--preset', 'ms20', '--tasks', String(TASKS)],
          ...['--replicas', '1', '--quorum', '1', '--audit-rate', '0', '--target-error', '0.99'],
          '--no-local-anchor',
          ...['--state', join(grid.dir, `state-${name}`)],
        ],
        grid.dir,
      );
    const runs = [run('a'), run('b')];
    const samples: Samples[] = [[], []];
    const poll = setInterval(() => {
      const t = performance.now();
      runs.forEach((r, i) => {
        const n = [...r.stderr().matchAll(/ (\d+)\/\d+ verified/g)].at(-1)?.[1];
        if (n !== undefined) samples[i]!.push([t, Number(n)]);
      });
    }, 100);
    const codes = await Promise.all(runs.map((r) => r.exit));
    clearInterval(poll);
    expect(codes, runs.map((r) => r.stderr().slice(-2000)).join('\n---\n')).toEqual([0, 0]);
    // Both running: from the later first result to the earlier finish.
    const first = (s: Samples) => s.find(([, n]) => n > 0)![0];
    const last = (s: Samples) => s.find(([, n]) => n >= TASKS)?.[0] ?? s.at(-1)![0];
    const from = Math.max(first(samples[0]!), first(samples[1]!));
    const to = Math.min(last(samples[0]!), last(samples[1]!));
    expect(to - from).toBeGreaterThan(2000);
    const rates = samples.map((s) => ((at(s, to) - at(s, from)) * 1000) / (to - from));
    const shares = rates.map((r) => r / (rates[0]! + rates[1]!));
    console.info(
      `fair-share ${JSON.stringify({ overlapS: +((to - from) / 1000).toFixed(1), tasksPerS: rates.map((r) => +r.toFixed(1)), shares: shares.map((s) => +s.toFixed(3)) })}`,
    );
    for (const s of shares) {
      expect(s).toBeGreaterThanOrEqual(0.4);
      expect(s).toBeLessThanOrEqual(0.6);
    }
  }, 240_000);
});

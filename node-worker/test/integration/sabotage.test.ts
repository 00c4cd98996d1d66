/**
 * Adaptive saboteurs against the `peergrid` CLI over real WebRTC: signaling
 * in this process, four `peergrid-worker` children (one a test-only
 * saboteur that behaves until it has heard a few `accepted` verdicts), the
 * CLI as a child process. An anchor settles the disputes its lies cause:
 * the CLI's own executor, or a worker trusted by peer id. Every accepted
 * output is compared with a local reference run, task by task.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Executor, outputsMatch, type TensorMap } from '@peergrid/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/cli/run-summary.ts';
import { createNodeExecutor } from '../../src/exec/node-executor.ts';
import { lieOf, type SabotageStrategy } from '../../src/worker/test-sabotage.ts';
import { createMatmulJob } from '../../src/workloads/index.ts';
import { cli, readResultsFile, summaryOf } from './cli-harness.ts';
import { mismatches, startTestGrid, type TestGrid, until } from './grid-harness.ts';

/** Enough tasks that verdicts pass the saboteur's threshold well before the end. */
const TASKS = 200;
/** The saboteur's `--test-only-betray-after`: it starts lying early. */
const BETRAY_AFTER = 5;
const workload = () => createMatmulJob({ preset: 'ms2', tasks: TASKS });

let executor: Executor;
let reference: ReadonlyMap<string, TensorMap>;
let dir: string;
beforeAll(async () => {
  executor = createNodeExecutor({ backend: 'cpu', concurrency: 1 });
  reference = await workload().reference(executor, { backend: 'cpu' });
  dir = mkdtempSync(join(tmpdir(), 'peergrid-sabotage-'));
}, 60_000);
afterAll(async () => {
  await executor?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A grid of three honest workers and one saboteur (the last one). */
async function gridWithSaboteur(strategy: SabotageStrategy): Promise<TestGrid> {
  const grid = await startTestGrid([{}, {}, {}, { sabotage: strategy, betrayAfter: BETRAY_AFTER }]);
  await until(() => grid.workers.every((w) => w.id() !== undefined), 10_000, 'worker ids');
  return grid;
}

interface Outcome {
  readonly exit: number | null;
  readonly stderr: string;
  readonly summary: RunSummary | null;
  readonly results: Map<string, TensorMap>;
}

async function runMatmul(grid: TestGrid, name: string, extra: readonly string[]): Promise<Outcome> {
  const out = join(dir, `${name}.json`);
  const run = cli(
    [
      'run',
      '--signal',
      grid.signalUrl,
      '--grid',
      grid.grid,
      '--workload',
      'matmul',
      '--preset',
      'ms2',
      '--tasks',
      String(TASKS),
      '--check',
      '--state',
      join(dir, `state-${name}`),
      '--out',
      out,
      ...extra,
    ],
    dir,
  );
  const exit = await run.exit;
  const stderr = run.stderr();
  return {
    exit,
    stderr,
    summary: summaryOf(stderr),
    results: exit === 0 ? readResultsFile(out) : new Map(),
  };
}

/** Tasks whose accepted output is the saboteur's lie about the reference. */
function lies(results: ReadonlyMap<string, TensorMap>): string[] {
  return [...reference].flatMap(([id, ref]) => {
    const got = results.get(id);
    return got && outputsMatch(got, lieOf(ref), { kind: 'exact' }) ? [id] : [];
  });
}

/** What both cases assert: a completed job equal to the reference, and the saboteur caught. */
function expectCaught(o: Outcome, liar: string, saboteurLog: string): void {
  expect(o.exit, o.stderr).toBe(0);
  const s = o.summary!;
  expect(s.state).toBe('completed');
  expect(s.check).toEqual({ matched: TASKS, total: TASKS });
  expect(s.final).toBe(TASKS);
  expect(s.achievedError).toBeLessThanOrEqual(s.targetError);
  // Every task's output, read back from --out, is the reference's and none is a lie.
  expect(o.results.size).toBe(TASKS);
  expect(mismatches(o.results, reference)).toEqual([]);
  expect(lies(o.results)).toEqual([]);
  // It did lie (after the threshold), and was excluded on an anchor's evidence or at least rejected.
  expect(saboteurLog).toMatch(/TEST-ONLY SABOTAGE: first lie/);
  const excluded = s.excluded.find((x) => x.donor === liar);
  if (excluded) expect(excluded.reason).toMatch(/anchor/);
  else expect(s.rejected).toBeGreaterThan(0);
  expect(s.excluded.map((x) => x.donor)).toEqual(excluded ? [liar] : []);
  expect(s.disagreements).toBeGreaterThan(0);
}

describe('a saboteur that betrays once trusted, against the local anchor', () => {
  let grid: TestGrid;
  beforeAll(async () => {
    grid = await gridWithSaboteur('betray');
  }, 90_000);
  afterAll(async () => {
    await grid?.close();
  }, 30_000);

  it('completes with the reference output; the anchor exposes the saboteur', async () => {
    const liar = grid.workers[3]!;
    const o = await runMatmul(grid, 'betray', []);
    expectCaught(o, liar.id()!, liar.log());
    const local = o.summary!.anchors.filter((a) => a.local);
    expect(local).toHaveLength(1);
    expect(local[0]!.results).toBeGreaterThan(0);
  }, 90_000);
});

describe('a saboteur that lies when it guesses it is alone, against a trusted worker', () => {
  let grid: TestGrid;
  beforeAll(async () => {
    grid = await gridWithSaboteur('alone');
  }, 90_000);
  afterAll(async () => {
    await grid?.close();
  }, 30_000);

  it('completes with the reference output without a local anchor', async () => {
    const liar = grid.workers[3]!;
    const trusted = grid.workers[0]!.id()!;
    const o = await runMatmul(grid, 'alone', ['--no-local-anchor', '--trusted-donor', trusted]);
    expectCaught(o, liar.id()!, liar.log());
    expect(o.summary!.anchors.map((a) => [a.id, a.local])).toEqual([[trusted, false]]);
  }, 90_000);
});

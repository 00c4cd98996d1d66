/**
 * The grid end to end on loopback over real WebRTC: signaling in this
 * process, three `peergrid-worker` child processes, the shared job runner as
 * the submitter. Outputs are compared byte for byte with a local reference run.
 */
import { spawn } from 'node:child_process';
import { createReputationBook, type Executor } from '@peergrid/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeExecutor } from '../../src/exec/node-executor.ts';
import { createMnistJob, createMnistTwoStageJob } from '../../src/workloads/index.ts';
import { mismatches, runJob, startTestGrid, type TestGrid, WORKER_BIN } from './grid-harness.ts';

let executor: Executor;
beforeAll(() => {
  executor = createNodeExecutor({ backend: 'cpu', concurrency: 1 });
});
afterAll(async () => {
  await executor.close();
});

describe('a grid of three workers', () => {
  let grid: TestGrid;
  beforeAll(async () => {
    grid = await startTestGrid([{}, {}, {}]);
  }, 90_000);
  afterAll(async () => {
    await grid?.close();
  }, 30_000);

  it('classifies MNIST with outputs equal to the local reference', async () => {
    const wl = createMnistJob({ batchSize: 100 });
    const reference = await wl.reference(executor, { backend: 'cpu' });
    const out = await runJob(grid.submitter, wl.spec);
    expect(out.state).toBe('completed');
    expect(out.results.size).toBe(wl.spec.tasks.length);
    expect(mismatches(out.results, reference)).toEqual([]);
    // Two replicas each: every accepted result had two backers among the three workers.
    expect(out.progress.donors.filter((d) => d.reported > 0).length).toBeGreaterThanOrEqual(2);
    expect(out.progress.resultsReceived).toBeGreaterThanOrEqual(2 * wl.spec.tasks.length);
  }, 60_000);

  it('runs a two-stage job: stage 2 is fed by verified stage 1 outputs', async () => {
    const wl = createMnistTwoStageJob({ batchSize: 50, limit: 300 });
    const reference = await wl.reference(executor, { backend: 'cpu' });
    const out = await runJob(grid.submitter, wl.spec);
    expect(out.state).toBe('completed');
    expect(out.results.size).toBe(12);
    expect(mismatches(out.results, reference)).toEqual([]);
  }, 60_000);

  it('completes with the reference output when a worker is SIGKILLed mid-job', async () => {
    const wl = createMnistJob({ batchSize: 5, limit: 600 });
    const reference = await wl.reference(executor, { backend: 'cpu' });
    const victim = grid.workers[0]!;
    let killedAt = -1;
    // A task planned with an audit wants a third donor; once the victim is
    // gone the two left cannot give it, and the engine settles it on the
    // results it has.
    const out = await runJob(grid.submitter, wl.spec, {
      onProgress: (p) => {
        const worked = p.donors.find((d) => d.id === victim.id())?.reported ?? 0;
        if (killedAt < 0 && p.tasks.verified >= 10 && worked > 0) {
          killedAt = p.tasks.verified;
          victim.child.kill('SIGKILL');
        }
      },
    });
    expect(killedAt).toBeGreaterThan(0);
    expect(killedAt).toBeLessThan(wl.spec.tasks.length);
    expect(
      victim.child.signalCode ??
        (await new Promise((r) => victim.child.once('exit', (_c, s) => r(s)))),
    ).toBe('SIGKILL');
    expect(out.state).toBe('completed');
    expect(mismatches(out.results, reference)).toEqual([]);
  }, 90_000);

  it('leaves cleanly on SIGTERM: drains, closes its peers and exits 0', async () => {
    const w = grid.workers[1]!;
    const gone = new Promise<string>((resolve) => {
      const off = grid.submitter.signaling.on('peer-left', (id) => {
        off();
        resolve(id);
      });
    });
    w.child.kill('SIGTERM');
    const code = await new Promise((r) => w.child.once('exit', r));
    expect(code).toBe(0);
    expect(await gone).toBe(w.id());
    expect(w.log()).toMatch(/stopped after \d+ tasks/);
  }, 30_000);
});

describe('peergrid-worker process', () => {
  it('refuses the sabotage switch without PEERGRID_TEST_SABOTAGE=1', async () => {
    const env = { ...process.env };
    delete env.PEERGRID_TEST_SABOTAGE;
    const child = spawn(
      process.execPath,
      [WORKER_BIN, '--signal', 'ws://127.0.0.1:9', '--test-only-sabotage'],
      { stdio: ['ignore', 'ignore', 'pipe'], env },
    );
    let err = '';
    child.stderr?.on('data', (d) => {
      err += String(d);
    });
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(2);
    expect(err).toMatch(/tests only/);
  }, 30_000);
});

describe('a grid with a saboteur', () => {
  let grid: TestGrid;
  beforeAll(async () => {
    grid = await startTestGrid([{}, {}, { sabotage: true }]);
  }, 90_000);
  afterAll(async () => {
    await grid?.close();
  }, 30_000);

  it('rejects its results, excludes it, and still matches the reference', async () => {
    // 500 small tasks: the liar, however late a loaded box makes its first result, reports
    // mid-job (a job no longer waits for stragglers, so a result after the end is moot).
    const wl = createMnistJob({ batchSize: 2, limit: 1000 });
    const reference = await wl.reference(executor, { backend: 'cpu' });
    // With only two honest newcomers no vote is credible enough to exclude
    // anyone; the submitter's own executor as an anchor settles the disputes,
    // and contradicting an anchor is evidence enough.
    const reputation = createReputationBook();
    const out = await runJob(grid.submitter, wl.spec, { reputation, localAnchor: executor });
    const liar = grid.workers[2]!.id();
    expect(liar).toBeDefined();
    expect(out.state).toBe('completed');
    expect(mismatches(out.results, reference)).toEqual([]);
    const liarStats = out.progress.donors.find((d) => d.id === liar);
    expect(liarStats?.reported).toBeGreaterThan(0);
    expect(liarStats?.excluded).toBe(true);
    expect(out.progress.excluded.find((x) => x.donor === liar)?.reason).toMatch(/anchor/);
    expect(reputation.get(liar!).excluded).toBe(true);
    expect(reputation.get(liar!).agreements).toBe(0);
    expect(reputation.get(liar!).creditMs).toBe(0);
    // The honest workers were never excluded.
    for (const w of grid.workers.slice(0, 2)) expect(reputation.get(w.id()!).excluded).toBe(false);
  }, 90_000);
});

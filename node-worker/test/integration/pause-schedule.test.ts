/**
 * Pausing a real worker mid-job never loses work: a worker with a
 * `--schedule` window that closes a minute from now pauses then (queued
 * leases handed back as `paused`, and with `--on-pause hand-back` the running
 * one too); a worker that joins then takes them, and the job completes with
 * no task failed and no attempt spent on the hand-backs.
 */
import type { JobSpec, Policy } from '@peergrid/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareNodeJob } from '../../src/worker/node-job.ts';
import { createMatmulJob } from '../../src/workloads/index.ts';
import { startTestGrid, type TestGrid, until } from './grid-harness.ts';

const SOLO: Partial<Policy> = {
  replicas: 1,
  quorum: 1,
  auditRate: 0,
  soloAuditRate: 0,
  youngAuditRate: 0,
  targetError: 0.99,
  // One attempt: a hand-back charged to the task would fail it.
  maxAttempts: 1,
};

const hhmm = (d: Date) =>
  `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;

describe('a worker pausing mid-job (--schedule, --on-pause hand-back)', () => {
  let grid: TestGrid;
  beforeAll(async () => {
    // The window closes at the next full minute (the one after, when that is under 15 s away).
    const now = new Date();
    const end = new Date(now.getTime() + (now.getSeconds() > 45 ? 120_000 : 60_000));
    const start = new Date(now.getTime() - 60_000);
    // Alone and at a tenth of its time until the pause: the job cannot end before it.
    grid = await startTestGrid([
      {
        concurrency: 1,
        args: [
          '--schedule',
          `${hhmm(start)}-${hhmm(end)}`,
          '--on-pause',
          'hand-back',
          '--cpu-share',
          '10',
        ],
      },
    ]);
  }, 90_000);
  afterAll(async () => {
    await grid?.close();
  }, 30_000);

  it('hands its leases back and the job completes without a failed task', async () => {
    const paused = grid.workers[0]!;
    // ~20 ms tasks at a 10 % share: about 5 a second, at most ~600 before a pause 2 minutes off.
    const TASKS = 1500;
    const wl = createMatmulJob({ preset: 'ms20', tasks: TASKS, seed: 3 });
    const job = await prepareNodeJob({ spec: { ...wl.spec, policy: SOLO } satisfies JobSpec });
    const runner = job.run(grid.submitter, { progressMs: 0 });
    await until(() => /paused: outside the schedule/.test(paused.log()), 150_000, 'the pause');
    const atPause = runner.progress().tasks.verified;
    // Another worker joins and takes what was handed back, and the rest.
    await grid.addWorker({ concurrency: 1 });
    const out = await runner.done;
    expect(out.state).toBe('completed');
    expect(runner.progress().tasks.failed).toBe(0);
    expect(runner.progress().tasks.verified).toBe(TASKS);
    expect(atPause).toBeGreaterThan(0);
    expect(atPause).toBeLessThan(TASKS);
    // The worker said why, in its log.
    expect(paused.log()).toMatch(
      /paused: outside the schedule \d\d:\d\d-\d\d:\d\d; queued tasks handed back/,
    );
  }, 240_000);
});

/**
 * `peergrid-worker --metrics-port` end to end: signaling in this process, a
 * real worker child process with its metrics server on a free port, the
 * shared job runner as the submitter over real WebRTC, and plain HTTP
 * scrapes of the worker while and after it computes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { JobSpec, Policy } from '@peergrid/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMatmulJob } from '../../src/workloads/index.ts';
import { parsePromText } from '../worker/prom-text.ts';
import { runJob, startTestGrid, type TestGrid, until, WORKER_BIN } from './grid-harness.ts';

/** One replica, no audits, target near 1: each result is accepted, and its verdict sent, as it arrives. */
const SOLO: Partial<Policy> = {
  replicas: 1,
  quorum: 1,
  auditRate: 0,
  soloAuditRate: 0,
  youngAuditRate: 0,
  targetError: 0.99,
};
const TASKS = 30;

interface MetricsWorker {
  readonly child: ChildProcess;
  log(): string;
}

function spawnMetricsWorker(grid: TestGrid, extra: readonly string[]): MetricsWorker {
  let text = '';
  const child = spawn(
    process.execPath,
    [
      WORKER_BIN,
      '--signal',
      grid.signalUrl,
      '--grid',
      grid.grid,
      '--concurrency',
      '1',
      '--backend',
      'cpu',
      '--cache',
      join(grid.dir, `metrics-worker-${Math.random().toString(36).slice(2)}`),
      '--drain-s',
      '5',
      '--mesh',
      '0',
      ...extra,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    text += d;
  });
  return { child, log: () => text };
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
  });

async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return parsePromText(await res.text());
}

describe('peergrid-worker --metrics-port', () => {
  let grid: TestGrid;
  let worker: MetricsWorker;
  let url = '';
  let peerId = '';

  beforeAll(async () => {
    grid = await startTestGrid([]);
    worker = spawnMetricsWorker(grid, ['--metrics-port', '0', '--metrics-host', '127.0.0.1']);
    await until(
      () => /joined grid '[^']*' as (\S+)/.test(worker.log()),
      30_000,
      'the worker to join',
    );
    url = /metrics on (http:\/\/\S+)/.exec(worker.log())?.[1] ?? '';
    peerId = /joined grid '[^']*' as (\S+)/.exec(worker.log())?.[1] ?? '';
    await until(
      () => [...grid.submitter.signaling.peers().values()].some((p) => p.id === peerId),
      30_000,
      'the submitter to see the worker',
    );
  }, 60_000);
  afterAll(async () => {
    if (worker?.child.exitCode === null) worker.child.kill('SIGTERM');
    if (worker) await exited(worker.child);
    await grid?.close();
  }, 30_000);

  it('serves zeroed counters and its identity before any task', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const m = await scrape(url);
    expect(
      m.get(`peergrid_worker_info{peer_id="${peerId}",grid="${grid.grid}",backends="cpu"}`),
    ).toBe(1);
    expect(m.get('peergrid_worker_tasks_run_total{backend="cpu"}')).toBe(0);
    expect(m.get('peergrid_worker_tasks_verified_total{verdict="accepted"}')).toBe(0);
    expect(m.get('peergrid_worker_busy_seconds_total{backend="cpu"}')).toBe(0);
    expect(m.get('peergrid_worker_model_cache_bytes')).toBe(0);
    expect(m.get('peergrid_worker_slots')).toBe(1);
    expect(m.get('peergrid_worker_queue_depth')).toBe(0);
  });

  it('counts a job: tasks run, verified by verdicts, busy seconds, queue while busy, links, cache bytes', async () => {
    const wl = createMatmulJob({ preset: 'ms20', tasks: TASKS, seed: 7 });
    const spec: JobSpec = { ...wl.spec, policy: SOLO };
    // Scrape while the job runs: the worker holds leases beyond the one it runs.
    let maxQueued = 0;
    let maxRunning = 0;
    let maxLinks = 0;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const m = await scrape(url);
        maxQueued = Math.max(maxQueued, m.get('peergrid_worker_queue_depth') ?? 0);
        maxRunning = Math.max(maxRunning, m.get('peergrid_worker_tasks_running') ?? 0);
        maxLinks = Math.max(maxLinks, m.get('peergrid_worker_links') ?? 0);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const out = await runJob(grid.submitter, spec);
    polling = false;
    await poller;
    expect(out.state).toBe('completed');
    expect(maxRunning).toBe(1);
    expect(maxQueued).toBeGreaterThanOrEqual(1);
    expect(maxLinks).toBeGreaterThanOrEqual(1);
    // Verdicts follow the results over the link: wait for the last ones.
    let m = await scrape(url);
    const t0 = Date.now();
    while ((m.get('peergrid_worker_tasks_verified_total{verdict="accepted"}') ?? 0) < TASKS) {
      if (Date.now() - t0 > 10_000) break;
      await new Promise((r) => setTimeout(r, 100));
      m = await scrape(url);
    }
    expect(m.get('peergrid_worker_tasks_verified_total{verdict="accepted"}')).toBe(TASKS);
    expect(m.get('peergrid_worker_tasks_verified_total{verdict="rejected"}')).toBe(0);
    expect(m.get('peergrid_worker_tasks_run_total{backend="cpu"}')).toBeGreaterThanOrEqual(TASKS);
    expect(m.get('peergrid_worker_busy_seconds_total{backend="cpu"}')).toBeGreaterThan(0);
    expect(m.get('peergrid_worker_verified_compute_seconds_total')).toBeGreaterThan(0);
    const model = Object.values(wl.spec.models)[0]!;
    expect(m.get('peergrid_worker_model_cache_bytes')).toBe(model.byteLength);
    expect(m.get('peergrid_worker_model_cache_models')).toBe(1);
    expect(m.get('peergrid_worker_queue_depth')).toBe(0);
    expect(m.get('peergrid_worker_tasks_running')).toBe(0);
  }, 90_000);

  it('counts failed tasks by error code', async () => {
    const wl = createMatmulJob({ preset: 'tiny', tasks: 1, seed: 3 });
    const task = wl.spec.tasks[0]!;
    // The tiny model wants x: float32 [batch, 4]; give it 3 columns.
    const bad: JobSpec = {
      ...wl.spec,
      policy: { ...SOLO, maxAttempts: 2 },
      tasks: [
        {
          ...task,
          feeds: {
            x: { tensor: { dtype: 'float32', dims: [1, 3], data: new Uint8Array(12) } },
          },
        },
      ],
    };
    const out = await runJob(grid.submitter, bad);
    expect(out.state).not.toBe('completed');
    const m = await scrape(url);
    expect(m.get('peergrid_worker_tasks_failed_total{code="bad-input"}')).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('refuses to start when the metrics port is taken, before joining', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const w = spawnMetricsWorker(grid, [
        '--metrics-port',
        String(port),
        '--metrics-host',
        '127.0.0.1',
      ]);
      expect(await exited(w.child)).toBe(1);
      expect(w.log()).toMatch(
        new RegExp(`cannot serve metrics on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`),
      );
      expect(w.log()).not.toMatch(/joined grid/);
    } finally {
      blocker.close();
    }
  }, 30_000);
});

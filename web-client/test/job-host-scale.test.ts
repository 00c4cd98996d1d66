import 'fake-indexeddb/auto';
import {
  canonicalBytes,
  createMemoryJobStore,
  createReputationBook,
  type JobSpec,
  tensorFrom,
  tensorValues,
} from '@peergrid/shared';
import { openIdbJobStore } from '@peergrid/shared/idb-store';
import { describe, expect, it } from 'vitest';
import type { GridNode } from '../src/grid/grid-node.ts';
import { createJobHost, type HostFootprint, SAMPLES_KEPT } from '../src/grid/job-host.ts';
import type { JobMeta, PageDb } from '../src/grid/page-db.ts';
import { sha256 } from '../src/grid/platform.ts';
import { TASK_WINDOW } from '../src/grid/task-states.ts';
import type { JobDetail } from '../src/state/types.ts';
import { grid, model } from './fake-page-grid.ts';

/** Verified group tasks the engine keeps before retiring them to IndexedDB. */
const RESIDENT = 500;

/** A group job of `n` tasks over one [n, 2] blob (task i doubles [i, i + 0.5]). */
async function groupJob(n: number): Promise<JobSpec> {
  const hash = await sha256(model);
  const rows = tensorFrom(
    'float32',
    [n, 2],
    Float32Array.from({ length: n * 2 }, (_, k) => (k >> 1) + (k % 2) * 0.5),
  );
  const blob = await sha256(canonicalBytes(rows));
  return {
    name: 'scale',
    models: { [hash]: model },
    blobs: { [blob]: rows },
    tasks: [],
    groups: [{ idPrefix: 't', count: n, model: hash, feeds: { x: { rowsOf: blob, rows: 1 } } }],
    // One result per task, no audits: this tab's own results are final at once, and a newcomer's
    // alone is under this target (its bound is at most 0.2).
    policy: {
      replicas: 1,
      quorum: 1,
      auditRate: 0,
      soloAuditRate: 0,
      youngAuditRate: 0,
      targetError: 0.25,
    },
  };
}

/**
 * Far past what the page may hold per task (TASK_WINDOW 2,000, RESIDENT 500). fake-indexeddb
 * costs about 1.7 ms per task here (its transactions, not the page), so its job is 12,000
 * tasks; the memory store runs 50,000.
 */
const CASES = [
  {
    store: 'IndexedDB (fake-indexeddb)',
    tasks: 12_000,
    open: () => openIdbJobStore({ name: 'host-scale' }),
  },
  { store: 'the memory store', tasks: 50_000, open: async () => createMemoryJobStore() },
] as const;

describe.each(CASES)('the job host over a big group job, on $store', ({ tasks: TASKS, open }) => {
  it(`holds a bounded window over ${TASKS} tasks, not a state per task; its views still list what they should`, async () => {
    const g = grid(() => 2, { ids: ['A'] });
    const store = await open();
    const metas = new Map<string, JobMeta>();
    const db = {
      getMeta: async (id: string) => metas.get(id),
      putMeta: async (m: JobMeta) => void metas.set(m.jobId, m),
    } as unknown as PageDb;
    const node = {
      identity: { id: 'me' },
      submitterView: g.view,
      peer: { blobs: g.blobs },
    } as unknown as GridNode;
    let changed = () => {};
    const host = await createJobHost({
      store,
      db,
      node,
      book: createReputationBook(),
      onChange: () => changed(),
      engine: { residentVerified: RESIDENT },
    });
    const submitted = await host.submit({
      name: 'scale',
      kind: 'custom',
      spec: await groupJob(TASKS),
    });
    if (!submitted.ok) throw new Error(submitted.error);
    const { jobId } = submitted;

    // Sampled on every change while the job runs: the largest each structure got.
    const most: Record<keyof HostFootprint, number> = { taskStates: 0, events: 0, samples: 0 };
    let mostCells = 0;
    let midJob: JobDetail | null = null;
    // Looked at as the page does (its views are rebuilt at most every 300 ms), here every 20 ms.
    let due = false;
    await new Promise<void>((resolve) => {
      changed = () => {
        due = true;
      };
      const look = setInterval(() => {
        const f = host.footprint(jobId)!;
        for (const k of Object.keys(most) as (keyof HostFootprint)[])
          most[k] = Math.max(most[k], f[k]);
        if (!due) return;
        due = false;
        const d = host.detail(jobId)!;
        mostCells = Math.max(mostCells, d.tasks.length);
        if (!midJob && d.verified > TASKS / 2 && d.state === 'running') midJob = d;
        if (d.state === 'completed') {
          clearInterval(look);
          resolve();
        }
      }, 20);
    });

    // Bounded by constants, not by the job's 50,000 tasks.
    expect(most.taskStates).toBeLessThanOrEqual(TASK_WINDOW);
    expect(most.taskStates).toBeGreaterThan(0);
    expect(most.events).toBeLessThanOrEqual(20_000);
    expect(most.samples).toBeLessThanOrEqual(SAMPLES_KEPT);
    expect(mostCells).toBeLessThanOrEqual(TASK_WINDOW);

    // Mid-job: counts over the whole job, a window of cells in the job's order.
    const mid = midJob as JobDetail | null;
    expect(mid).not.toBeNull();
    if (!mid) return;
    expect(mid.allTasks).toBe(false);
    expect(Object.values(mid.taskCounts).reduce((a, b) => a + b, 0)).toBe(TASKS);
    const at = (id: string) => Number(id.slice(1));
    expect(mid.tasks.map((t) => at(t.id))).toEqual(
      mid.tasks.map((t) => at(t.id)).sort((a, b) => a - b),
    );

    const done = host.detail(jobId)!;
    expect([done.verified, done.total, done.taskCounts.verified]).toEqual([TASKS, TASKS, TASKS]);
    expect(done.tasks.every((t) => t.state === 'verified')).toBe(true);
    expect(host.summaries().map((s) => [s.id, s.verified, s.total])).toEqual([
      [jobId, TASKS, TASKS],
    ]);
    // The throughput is the sampled series (the event log no longer starts at the job's start).
    expect(done.throughput.at(-1)?.[1]).toBe(TASKS);

    // Results a page at a time: the first tasks retired long ago (read from IndexedDB), the last
    // ones may still be in memory; every one doubles its input.
    for (const offset of [0, Math.floor(TASKS / 2), TASKS - 1_000]) {
      const page = (await host.results(jobId, { offset, limit: 1_000 }))!;
      expect([page.total, page.offset, page.tasks.length]).toEqual([TASKS, offset, 1_000]);
      page.tasks.forEach((t, k) => {
        const i = offset + k;
        expect(t.taskId).toBe(`t${i}`);
        expect(Array.from(tensorValues(t.inputs.x!) as Float32Array)).toEqual([i, i + 0.5]);
        expect(Array.from(tensorValues(t.outputs!.y!) as Float32Array)).toEqual([2 * i, 2 * i + 1]);
      });
    }
    // Without a page: the first RESULTS_PAGE tasks, not the whole job.
    expect((await host.results(jobId))!.tasks).toHaveLength(1_000);
    await host.close();
    await store.close();
  }, 240_000);
});

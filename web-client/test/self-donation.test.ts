import {
  canonicalBytes,
  createMemoryJobStore,
  createReputationBook,
  type JobSpec,
  tensorFrom,
  tensorValues,
} from '@peergrid/shared';
import { describe, expect, it } from 'vitest';
import type { GridNode } from '../src/grid/grid-node.ts';
import { createJobHost } from '../src/grid/job-host.ts';
import type { JobMeta, PageDb } from '../src/grid/page-db.ts';
import { sha256 } from '../src/grid/platform.ts';
import { grid, model, type Remotes } from './fake-page-grid.ts';

/** The page's job host (the one the page runs) over this grid, with in-memory storage. */
async function runJob(
  tasks: number,
  policy: JobSpec['policy'],
  selfCapacity: () => number,
  remotes: Remotes = { ids: ['A'] },
  /** The tasks as one task group over a [tasks, 2] blob (ids t0…) instead of a list. */
  grouped = false,
) {
  const g = grid(selfCapacity, remotes);
  const store = createMemoryJobStore();
  const book = createReputationBook();
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
  const host = await createJobHost({ store, db, node, book, onChange: () => changed() });
  const hash = await sha256(model);
  const submitted = await host.submit({
    name: 'doubling',
    kind: 'custom',
    spec: {
      name: 'doubling',
      models: { [hash]: model },
      ...(grouped
        ? await (async () => {
            const rows = tensorFrom(
              'float32',
              [tasks, 2],
              Float32Array.from({ length: tasks * 2 }, (_, k) => (k >> 1) + (k % 2) * 0.5),
            );
            const blob = await sha256(canonicalBytes(rows));
            return {
              blobs: { [blob]: rows },
              tasks: [],
              groups: [
                {
                  idPrefix: 't',
                  count: tasks,
                  model: hash,
                  feeds: { x: { rowsOf: blob, rows: 1 } },
                },
              ],
            };
          })()
        : {
            tasks: Array.from({ length: tasks }, (_, i) => ({
              id: `t${i}`,
              model: hash,
              feeds: { x: { tensor: tensorFrom('float32', [2], new Float32Array([i, i + 0.5])) } },
            })),
          }),
      ...(policy ? { policy } : {}),
    },
  });
  if (!submitted.ok) throw new Error(submitted.error);
  const { jobId } = submitted;
  // The host calls the job shown complete only once the runner has stored and told everything.
  await new Promise<void>((resolve) => {
    changed = () => {
      if (host.detail(jobId)?.state === 'completed') resolve();
    };
    changed();
  });
  const detail = host.detail(jobId)!;
  return { ...g, host, detail, jobId, store };
}

describe('this tab donates to its own jobs (shared job runner over the page glue)', () => {
  it('runs a job on the loopback and a remote donor, both counted', async () => {
    const r = await runJob(
      4,
      {
        replicas: 2,
        quorum: 2,
        adaptive: false,
        auditRate: 0,
        soloAuditRate: 0,
        youngAuditRate: 0,
      },
      () => 2,
    );
    expect(r.selfExec.runs).toBe(4);
    expect(r.execs.get('A')!.runs).toBe(4);
    const t2 = (await r.host.results(r.jobId))?.tasks.find((t) => t.taskId === 't2');
    expect(Array.from(tensorValues(t2!.outputs!.y!) as Float32Array)).toEqual([4, 5]);
    const view = r.detail;
    expect(view.state).toBe('completed');
    expect(view.tasks.map((t) => t.state)).toEqual([
      'verified',
      'verified',
      'verified',
      'verified',
    ]);
    expect(view.donors.map((d) => [d.id, d.results]).sort()).toEqual([
      ['A', 4],
      ['me', 4],
    ]);
    expect(view.throughput.at(-1)?.[1]).toBe(4);
    expect(view.tasks.every((t) => t.leases >= 2)).toBe(true);
    // This tab is an anchor: every result it backs is final at once (bound 0).
    expect(view.anchors).toEqual([{ id: 'me', results: 4 }]);
    expect(view.donors.find((d) => d.id === 'me')?.anchor).toBe(true);
    expect([view.final, view.achievedError, view.excludedDonors]).toEqual([4, 0, []]);
    expect((await r.store.loadSnapshot(r.jobId))?.job.state).toBe('completed');
    await r.host.close();
  });

  it('shows and returns the tasks of a task group, with their inputs', async () => {
    const r = await runJob(
      3,
      { replicas: 2, quorum: 2, auditRate: 0, soloAuditRate: 0, youngAuditRate: 0 },
      () => 2,
      { ids: ['A'] },
      true,
    );
    expect(r.detail.state).toBe('completed');
    expect(r.detail.tasks.map((t) => [t.id, t.state])).toEqual([
      ['t0', 'verified'],
      ['t1', 'verified'],
      ['t2', 'verified'],
    ]);
    const t2 = (await r.host.results(r.jobId))?.tasks.find((t) => t.taskId === 't2');
    expect(Array.from(tensorValues(t2!.inputs.x!) as Float32Array)).toEqual([2, 2.5]);
    expect(Array.from(tensorValues(t2!.outputs!.y!) as Float32Array)).toEqual([4, 5]);
    await r.host.close();
  });

  it('a paused tab (capacity 0) gets no tasks; the grid does the work', async () => {
    const r = await runJob(
      3,
      // One newcomer alone: its results' bound is f/(1 − f) / (1 + f/(1 − f)) = 0.2 at most.
      {
        replicas: 1,
        quorum: 1,
        auditRate: 0,
        soloAuditRate: 0,
        youngAuditRate: 0,
        targetError: 0.25,
      },
      () => 0,
    );
    expect(r.detail.state).toBe('completed');
    expect(r.selfExec.runs).toBe(0);
    expect(r.execs.get('A')!.runs).toBe(3);
    await r.host.close();
  });

  it('runs as an anchor: a lying donor tab is caught by it, its lies never kept', async () => {
    // The default policy (target error 1e-4): two newcomer tabs agreeing are not enough, this
    // tab's own result is. (Three remote tabs: with one excluded, an audit still finds a donor.)
    const r = await runJob(8, undefined, () => 2, { ids: ['A', 'B', 'C'], liars: ['A'] });
    expect(r.detail.state).toBe('completed');
    const results = (await r.host.results(r.jobId))?.tasks ?? [];
    expect(results).toHaveLength(8);
    for (const t of results) {
      const i = Number(t.taskId.slice(1));
      expect(Array.from(tensorValues(t.outputs!.y!) as Float32Array)).toEqual([2 * i, 2 * i + 1]);
    }
    // The liar was handed work, contradicted by this tab's own result and excluded.
    expect(r.execs.get('A')!.runs).toBeGreaterThan(0);
    expect(r.detail.excludedDonors).toEqual([
      { donor: 'A', reason: expect.stringMatching(/^contradicted an anchor, last on task t\d$/) },
    ]);
    expect(r.detail.donors.find((d) => d.id === 'A')).toMatchObject({
      excluded: true,
      agreed: 0,
      anchor: false,
    });
    expect(r.detail.events.some((e) => /^A excluded \(contradicted an anchor/.test(e.text))).toBe(
      true,
    );
    // This tab's results: every one from its own executor (a run cancelled meanwhile reports none).
    const [anchor] = r.detail.anchors;
    expect(r.detail.anchors).toHaveLength(1);
    expect(anchor?.id).toBe('me');
    expect(anchor?.results).toBeGreaterThan(0);
    expect(anchor?.results).toBeLessThanOrEqual(r.selfExec.runs);
    expect([r.detail.final, r.detail.total, r.detail.achievedError]).toEqual([8, 8, 0]);
    await r.host.close();
  });
});

/**
 * A resume that brings no outputs it does not need: the IndexedDB store's
 * `loadSnapshot` with `snapshotLeanResults` drops the outputs of final group
 * tasks nobody takes as input (the engine keeps those apart and recalls them
 * from the store), keeps the others', and an engine restored from it decides
 * as one restored from the whole snapshot.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { canonicalBytes } from '../../src/job/compare.ts';
import { createJobEngine, type JobEngine } from '../../src/job/engine.ts';
import { createReputationBook, type ReputationBook } from '../../src/job/reputation.ts';
import type { JobSpec } from '../../src/job/spec.ts';
import type { EngineAction, EngineSnapshot } from '../../src/job/types.ts';
import { seededRandom } from '../../src/platform.ts';
import { openIdbJobStore } from '../../src/store/idb-store.ts';
import { type JobStore, snapshotLeanResults } from '../../src/store/job-store.ts';
import { tensorFrom } from '../../src/tensor.ts';
import { caps, NO_AUDITS, sha256 } from '../job/helpers.ts';

const N = 40;

/** N group tasks (row i of an int32 [N, 2] blob) and one explicit task taking row-3's output. */
async function spec(): Promise<JobSpec> {
  const blob = tensorFrom(
    'int32',
    [N, 2],
    new Int32Array(Array.from({ length: N }, (_, i) => [i, -i]).flat()),
  );
  const hash = await sha256(canonicalBytes(blob));
  return {
    models: { m: new Uint8Array([1]) },
    blobs: { [hash]: blob },
    tasks: [{ id: 'sum', model: 'm', feeds: { x: { fromTask: 'row-3', output: 'y' } } }],
    groups: [{ idPrefix: 'row-', count: N, model: 'm', feeds: { x: { rowsOf: hash, rows: 1 } } }],
    policy: { ...NO_AUDITS, adaptive: false, replicas: 2, quorum: 2, targetError: 0.1 },
  };
}

const engineFor = (s: JobSpec, book: ReputationBook, restore?: EngineSnapshot): JobEngine =>
  createJobEngine({
    jobId: 'lean',
    spec: s,
    now: () => 0,
    random: seededRandom(5),
    reputation: book,
    maxInFlightPerDonor: 4,
    ...(restore ? { restore } : {}),
  });

/** Honest donors answer at once (y = x) until `until`; every delta is committed. */
async function drive(e: JobEngine, store: JobStore, first: EngineAction[], until: () => boolean) {
  let pending = [...first];
  while (pending.length > 0 && !until()) {
    const next: EngineAction[] = [];
    for (const a of pending) {
      if (a.type === 'assign') {
        next.push(...e.acked(a.leaseId), ...e.reported(a.leaseId, { y: a.feeds.x! }, 1));
      } else if (a.type === 'load') {
        await store.commit(e.jobId, e.takeDelta());
        next.push(...e.loaded(a.taskIds, await store.getResults(e.jobId, a.taskIds)));
      }
    }
    await store.commit(e.jobId, e.takeDelta());
    pending = next;
  }
  await store.commit(e.jobId, e.takeDelta());
}

describe('a lean snapshot (IndexedDB)', () => {
  it('leaves out the outputs the engine keeps apart, and restores to the same decisions', async () => {
    const s = await spec();
    const store = await openIdbJobStore({ name: 'lean-snapshot' });
    const book = createReputationBook();
    const e1 = engineFor(s, book);
    const first = ['d1', 'd2'].flatMap((id) => e1.donorAvailable({ id, capabilities: caps(2) }));
    await drive(e1, store, first, () => e1.progress().tasks.verified >= 25);
    expect(e1.progress().state).toBe('running');

    const lean = snapshotLeanResults(s);
    const whole = (await store.loadSnapshot('lean'))!;
    const part = (await store.loadSnapshot('lean', { withoutOutputs: lean }))!;
    expect(part.tasks).toEqual(whole.tasks);
    expect(part.results.map((r) => r.taskId)).toEqual(whole.results.map((r) => r.taskId));
    const emptied = part.results.filter((r) => Object.keys(r.outputs).length === 0);
    // Every final group result but row-3's (the explicit task's input) comes without outputs.
    expect(emptied.length).toBeGreaterThan(0);
    expect(emptied.map((r) => r.taskId)).not.toContain('row-3');
    for (const r of whole.results) {
      const kept = part.results.find((x) => x.taskId === r.taskId)!;
      if (lean(r.taskId, r.bound)) expect(kept).toEqual({ ...r, outputs: {} });
      else expect(kept).toEqual(r);
    }
    expect(whole.results.some((r) => r.taskId === 'row-3')).toBe(true);
    expect(lean('row-3', 0)).toBe(false);
    expect(lean('sum', 0)).toBe(false);
    expect(lean('row-5', 0.5)).toBe(false); // short of the target: weighed again on restore

    // Restored from either: same counts, same resident tasks, and on to the same end.
    const a = engineFor(s, book, whole);
    const b = engineFor(s, book, part);
    const figures = (e: JobEngine) => {
      const p = e.progress();
      return [p.tasks, p.retired, e.snapshot().tasks.map((t) => [t.taskId, t.state])];
    };
    expect(figures(b)).toEqual(figures(a));
    await drive(
      b,
      store,
      ['d1', 'd2'].flatMap((id) => b.donorAvailable({ id, capabilities: caps(2) })),
      () => false,
    );
    expect(b.progress().state).toBe('completed');
    const sum = b.result('sum')!.y!;
    expect([...new Int32Array(sum.data.slice().buffer)]).toEqual([3, -3]);
    await store.close();
  });
});

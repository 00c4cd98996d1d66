import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResultRecord } from '@peergrid/shared';
import { Packr } from 'msgpackr';
import { afterAll, describe, expect, it } from 'vitest';
// The shared compliance suite every JobStore passes (memory, IndexedDB, disk).
import { runJobStoreCompliance } from '../../../shared/test/store/compliance.ts';
import { createDiskBlobCache } from './disk-blob-cache.ts';
import { openDiskJobStore } from './disk-job-store.ts';

const root = mkdtempSync(join(tmpdir(), 'peergrid-disk-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

runJobStoreCompliance('disk', () => openDiskJobStore(join(root, `c${n++}`)));

const delta = (seq: number, results: ResultRecord[] = []) => ({
  job: { jobId: 'j', state: 'running' as const, seq, updatedAt: seq },
  tasks: [{ jobId: 'j', taskId: `t${seq}`, state: 'verified' as const, attempts: 1 }],
  results,
  removedResults: [],
  events: [{ jobId: 'j', seq, at: seq, type: 'task-verified' as const, taskId: `t${seq}` }],
});
const result = (taskId: string): ResultRecord => ({
  jobId: 'j',
  taskId,
  outputs: { y: { dtype: 'uint8', dims: [1], data: new Uint8Array([taskId.length]) } },
  backers: ['d1'],
  bound: 0,
  backend: 'cpu',
  acceptedAt: 1,
});

describe('disk job store', () => {
  it('leaves out the outputs loadSnapshot is told the engine keeps apart', async () => {
    const store = await openDiskJobStore(join(root, 'lean'));
    await store.commit('j', delta(1, [result('t1'), result('t22')]));
    const snap = await store.loadSnapshot('j', { withoutOutputs: (id) => id === 't22' });
    const byId = new Map(snap?.results.map((r) => [r.taskId, r]));
    expect(byId.get('t22')).toEqual({ ...result('t22'), outputs: {} });
    expect(byId.get('t1')).toEqual(result('t1'));
    expect((await store.getResults('j', ['t22']))[0]).toEqual(result('t22')); // kept in the store
    await store.close();
  });

  it('survives a reopen without close (as after a crash), and trims old events', async () => {
    const dir = join(root, 'reopen');
    const a = await openDiskJobStore(dir, { maxEventsPerJob: 2 });
    for (let s = 1; s <= 3; s++) await a.commit('j', delta(s));
    // No close(): every commit is already on disk. The lock is ours, so a reopen may take it.
    rmSync(join(dir, 'state.lock'));
    const b = await openDiskJobStore(dir);
    const snap = await b.loadSnapshot('j');
    expect(snap?.job.seq).toBe(3);
    expect(snap?.tasks.map((t) => t.taskId).sort()).toEqual(['t1', 't2', 't3']);
    expect((await b.events('j')).map((e) => e.seq)).toEqual([2, 3]);
    expect((await b.events('j', 2)).map((e) => e.seq)).toEqual([3]);
    await b.close();
  });

  it('lists every result a page at a time, and reads some by id', async () => {
    const store = await openDiskJobStore(join(root, 'results'));
    const ids = Array.from({ length: 700 }, (_, i) => `task-${i}`);
    await store.commit('j', delta(1, ids.map(result)));
    await store.commit('j', { ...delta(2), removedResults: ['task-5'] });
    const seen: string[] = [];
    for await (const r of store.results('j')) seen.push(r.taskId);
    expect(seen.sort()).toEqual(ids.filter((id) => id !== 'task-5').sort());
    const some = await store.getResults('j', ['task-9', 'task-5', 'nope']);
    expect(some.map((r) => r.taskId)).toEqual(['task-9']);
    expect(some[0]?.outputs.y?.data).toBeInstanceOf(Uint8Array);
    await store.close();
  });

  it('imports a directory of the earlier layout (snapshot + newer commit files) once', async () => {
    const dir = join(root, 'legacy');
    mkdirSync(join(dir, 'commits'), { recursive: true });
    const codec = new Packr({ moreTypes: true });
    const d1 = delta(1, [result('t1')]);
    writeFileSync(
      join(dir, 'state.snapshot'),
      codec.pack({
        seq: 1,
        jobs: { j: { job: d1.job, tasks: d1.tasks, results: d1.results, events: d1.events } },
        reputations: [{ peerId: 'd1', audited: 3 }],
      }),
    );
    const c = (seq: number) => codec.pack({ seq, jobId: 'j', delta: delta(seq), reputations: [] });
    writeFileSync(join(dir, 'commits', '000000000001.commit'), c(1)); // already in the snapshot
    writeFileSync(join(dir, 'commits', '000000000002.commit'), c(2));
    const store = await openDiskJobStore(dir);
    const snap = await store.loadSnapshot('j');
    expect(snap?.job.seq).toBe(2);
    expect(snap?.tasks.map((t) => t.taskId).sort()).toEqual(['t1', 't2']);
    expect(snap?.results.map((r) => r.taskId)).toEqual(['t1']);
    expect((await store.reputations()).map((r) => r.peerId)).toEqual(['d1']);
    expect(readdirSync(dir)).not.toContain('state.snapshot');
    expect(readdirSync(dir)).not.toContain('commits');
    await store.close();
  });

  it('refuses a directory another live process holds, reads it read-only, takes over a dead lock', async () => {
    const dir = join(root, 'locked');
    const first = await openDiskJobStore(dir);
    await first.close();
    writeFileSync(join(dir, 'state.lock'), String(process.ppid)); // a live process, not us
    await expect(openDiskJobStore(dir)).rejects.toMatchObject({ code: 'store-locked' });
    const reader = await openDiskJobStore(dir, { readOnly: true });
    expect(await reader.listJobs()).toEqual([]);
    await expect(reader.putBlob('0'.repeat(64), new Uint8Array(1))).rejects.toMatchObject({
      code: 'read-only',
    });
    await reader.close();
    writeFileSync(join(dir, 'state.lock'), '999999999'); // no such process
    const again = await openDiskJobStore(dir);
    await again.close();
    expect(readdirSync(dir)).not.toContain('state.lock');
  });

  it('drops a cached blob whose bytes no longer match its name', async () => {
    const dir = join(root, 'blobs');
    const cache = await createDiskBlobCache(dir);
    const bytes = new Uint8Array([1, 2, 3]);
    const hash = '039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81';
    await cache.put(hash, bytes);
    const fresh = await createDiskBlobCache(dir); // nothing in memory
    expect(await fresh.get(hash)).toEqual(bytes);
    writeFileSync(join(dir, hash), new Uint8Array([6, 6, 6]));
    const again = await createDiskBlobCache(dir);
    expect(await again.get(hash)).toBeUndefined();
    expect(await again.has(hash)).toBe(false);
  });
});

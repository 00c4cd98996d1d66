import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// The shared compliance suite every JobStore passes (memory, IndexedDB, disk).
import { runJobStoreCompliance } from '../../../shared/test/store/compliance.ts';
import { createDiskBlobCache } from './disk-blob-cache.ts';
import { openDiskJobStore } from './disk-job-store.ts';

const root = mkdtempSync(join(tmpdir(), 'peergrid-disk-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

runJobStoreCompliance('disk', () => openDiskJobStore(join(root, `c${n++}`)));
runJobStoreCompliance('disk, compacting on every commit', () =>
  openDiskJobStore(join(root, `k${n++}`), { compactEvery: 1 }),
);

describe('disk job store', () => {
  it('survives a reopen: state from commit files and from the snapshot alike', async () => {
    const dir = join(root, 'reopen');
    const a = await openDiskJobStore(dir, { compactEvery: 2 });
    const delta = (seq: number) => ({
      job: { jobId: 'j', state: 'running' as const, seq, updatedAt: seq },
      tasks: [{ jobId: 'j', taskId: `t${seq}`, state: 'verified' as const, attempts: 1 }],
      results: [],
      removedResults: [],
      events: [{ jobId: 'j', seq, at: seq, type: 'task-verified' as const, taskId: `t${seq}` }],
    });
    for (let s = 1; s <= 3; s++) await a.commit('j', delta(s));
    // No close(): as after a crash. Commits 1-2 are in the snapshot, 3 in its own file.
    expect(readdirSync(join(dir, 'commits'))).toHaveLength(1);
    const b = await openDiskJobStore(dir);
    const snap = await b.loadSnapshot('j');
    expect(snap?.job.seq).toBe(3);
    expect(snap?.tasks.map((t) => t.taskId).sort()).toEqual(['t1', 't2', 't3']);
    expect((await b.events('j', 1)).map((e) => e.seq)).toEqual([2, 3]);
    await b.close();
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

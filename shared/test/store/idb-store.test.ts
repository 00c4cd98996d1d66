import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { openIdbJobStore } from '../../src/store/idb-store.ts';
import { splitJobSpec } from '../../src/store/job-store.ts';
import { specOf, trustedRecord } from '../job/helpers.ts';
import { runJobStoreCompliance } from './compliance.ts';

let n = 0;
runJobStoreCompliance('indexeddb', () => openIdbJobStore({ name: `compliance-${n++}` }));

describe('IndexedDB job store', () => {
  it('upgrades a v1 database to v2 and keeps its data', async () => {
    const v1 = await openIdbJobStore({ name: 'upgrade', version: 1 });
    await v1.putJob(
      { jobId: 'old', manifest: splitJobSpec(specOf([])).manifest, createdAt: 1 },
      new Map(),
    );
    await v1.close();
    const raw = await openDB('upgrade');
    expect([...raw.objectStoreNames]).not.toContain('reputations');
    raw.close();
    const v2 = await openIdbJobStore({ name: 'upgrade' });
    expect((await v2.getJob('old'))?.createdAt).toBe(1);
    await v2.commit(
      'old',
      {
        job: { jobId: 'old', state: 'running', seq: 0, updatedAt: 2 },
        tasks: [],
        results: [],
        removedResults: [],
        events: [],
      },
      [trustedRecord('p1')],
    );
    expect((await v2.reputations()).map((r) => r.peerId)).toEqual(['p1']);
    await v2.close();
  });

  it('leaves nothing of a commit whose transaction aborts half-way', async () => {
    const store = await openIdbJobStore({ name: 'abort' });
    const unclonable = { y: () => 1 } as never; // fails inside the transaction, after earlier puts
    await expect(
      store.commit('j', {
        job: { jobId: 'j', state: 'running', seq: 2, updatedAt: 1 },
        tasks: [{ jobId: 'j', taskId: 'a', state: 'verified', attempts: 0 }],
        results: [
          {
            jobId: 'j',
            taskId: 'a',
            outputs: unclonable,
            backers: ['d'],
            bound: 0.01,
            backend: 'wasm',
            acceptedAt: 1,
          },
        ],
        removedResults: [],
        events: [{ jobId: 'j', seq: 1, at: 1, type: 'job-started' }],
      }),
    ).rejects.toThrow();
    expect(await store.loadSnapshot('j')).toBeUndefined();
    expect(await store.events('j')).toEqual([]);
    await store.close();
  });

  it('keeps the newest maxEventsPerJob events of a job, and all of another', async () => {
    const store = await openIdbJobStore({ name: 'trim', maxEventsPerJob: 5 });
    let seq = 0;
    for (const n of [3, 4, 6]) {
      const events = Array.from({ length: n }, () => ({
        jobId: 'j',
        seq: ++seq,
        at: seq,
        type: 'task-verified' as const,
      }));
      await store.commit('j', {
        job: { jobId: 'j', state: 'running', seq, updatedAt: seq },
        tasks: [],
        results: [],
        removedResults: [],
        events,
      });
    }
    await store.commit('k', {
      job: { jobId: 'k', state: 'running', seq: 2, updatedAt: 1 },
      tasks: [],
      results: [],
      removedResults: [],
      events: [1, 2].map((s) => ({ jobId: 'k', seq: s, at: s, type: 'job-started' as const })),
    });
    expect((await store.events('j')).map((e) => e.seq)).toEqual([9, 10, 11, 12, 13]);
    expect((await store.events('j', 11)).map((e) => e.seq)).toEqual([12, 13]);
    expect((await store.events('k')).map((e) => e.seq)).toEqual([1, 2]);
    await store.close();
  });
});

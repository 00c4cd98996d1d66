/** A reusable suite every `JobStore` implementation must pass (memory, IndexedDB, the CLI's disk store). */
import { describe, expect, it } from 'vitest';
import { canonicalBytes } from '../../src/job/compare.ts';
import { createJobEngine } from '../../src/job/engine.ts';
import { createReputationBook } from '../../src/job/reputation.ts';
import type { JobSpec } from '../../src/job/spec.ts';
import type { EngineDelta } from '../../src/job/types.ts';
import { seededRandom } from '../../src/platform.ts';
import { type JobStore, loadJobSpec, splitJobSpec } from '../../src/store/job-store.ts';
import { assigns, caps, i32, out, sha256, specOf } from '../job/helpers.ts';

export function runJobStoreCompliance(name: string, open: () => Promise<JobStore>): void {
  describe(`JobStore compliance: ${name}`, () => {
    it('keeps jobs and their blobs, and rebuilds the spec', async () => {
      const store = await open();
      const model = new Uint8Array([9, 8, 7]);
      const input = i32(4, 5);
      const mh = await sha256(model);
      const bh = await sha256(canonicalBytes(input));
      const spec: JobSpec = {
        name: 'demo',
        models: { [mh]: model },
        blobs: { [bh]: input },
        tasks: [{ id: 'a', model: mh, feeds: { x: { blob: bh }, z: { tensor: i32(1) } } }],
        policy: { replicas: 3, quorum: 2 },
      };
      const { manifest, blobs } = splitJobSpec(spec);
      await store.putJob({ jobId: 'j1', manifest, createdAt: 5 }, blobs);
      await store.putJob({ jobId: 'j1', manifest, createdAt: 5 }, blobs); // idempotent
      expect((await store.listJobs()).map((j) => j.jobId)).toEqual(['j1']);
      expect(await store.getBlob(mh)).toEqual(model);
      const back = await loadJobSpec(store, 'j1');
      expect(back).toEqual(spec);
      expect(await loadJobSpec(store, 'nope')).toBeUndefined();
      await store.close();
    });

    it('commits engine deltas and restores an engine from them', async () => {
      const store = await open();
      const spec = specOf([
        { id: 'a', model: 'm', feeds: {} },
        { id: 'b', model: 'm', feeds: { x: { fromTask: 'a', output: 'y' } } },
      ]);
      const book = createReputationBook();
      const t = { now: 0 };
      const e1 = createJobEngine({
        jobId: 'j2',
        spec,
        now: () => t.now,
        random: seededRandom(1),
        reputation: book,
      });
      const leases = ['d1', 'd2'].flatMap((id) =>
        assigns(e1.donorAvailable({ id, capabilities: caps() })),
      );
      for (const l of leases) e1.reported(l.leaseId, out(6), 3);
      await store.commit('j2', e1.takeDelta(), book.takeChanged());
      const snap = await store.loadSnapshot('j2');
      expect(snap?.results.map((r) => r.taskId)).toEqual(['a']);
      const e2 = createJobEngine({
        jobId: 'j2',
        spec,
        now: () => t.now,
        random: seededRandom(2),
        reputation: createReputationBook(await store.reputations()),
        restore: snap!,
      });
      expect(e2.result('a')).toEqual(out(6));
      const again = assigns(e2.donorAvailable({ id: 'd3', capabilities: caps() }));
      expect(again.map((a) => [a.taskId, a.feeds.x])).toEqual([['b', i32(6)]]); // in-flight work is re-issued
      expect((await store.reputations()).find((r) => r.peerId === 'd1')?.creditMs).toBe(3);
      const events = await store.events('j2');
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect((await store.events('j2', 3)).every((e) => e.seq > 3)).toBe(true);
      await store.commit('j2', { ...e2.takeDelta(), removedResults: ['a'] });
      expect((await store.loadSnapshot('j2'))?.results).toEqual([]);
      await store.close();
    });

    it('reads accepted results by id and lists them all, without removed ones', async () => {
      const store = await open();
      const rec = (taskId: string, v: number) => ({
        jobId: 'jr',
        taskId,
        outputs: { y: i32(v) },
        backers: ['d1', 'd2'],
        bound: 0,
        backend: 'wasm' as const,
        acceptedAt: v,
      });
      const job = { jobId: 'jr', state: 'running' as const, seq: 1, updatedAt: 1 };
      const ids = Array.from({ length: 300 }, (_, i) => `t${i}`);
      await store.commit('jr', {
        job,
        tasks: [],
        results: ids.map((id, i) => rec(id, i)),
        removedResults: [],
        events: [],
      });
      await store.commit('jr', { job, tasks: [], results: [], removedResults: ['t7'], events: [] });
      const got = await store.getResults('jr', ['t3', 't7', 'missing']);
      expect(got).toEqual([rec('t3', 3)]);
      const all: string[] = [];
      for await (const r of store.results('jr')) all.push(r.taskId);
      expect(all.sort()).toEqual(ids.filter((id) => id !== 't7').sort());
      expect(await store.getResults('other', ['t3'])).toEqual([]);
      await store.close();
    });

    it('refuses a malformed delta as a whole', async () => {
      const store = await open();
      const good: EngineDelta = {
        job: { jobId: 'j3', state: 'running', seq: 1, updatedAt: 1 },
        tasks: [],
        results: [],
        removedResults: [],
        events: [{ jobId: 'j3', seq: 1, at: 1, type: 'job-started' }],
      };
      await expect(
        store.commit('j3', {
          ...good,
          tasks: [{ jobId: 'j3', taskId: '', state: 'ready', attempts: 0 }],
        }),
      ).rejects.toMatchObject({ code: 'bad-record' });
      expect(await store.loadSnapshot('j3')).toBeUndefined();
      expect(await store.events('j3')).toEqual([]);
      await store.commit('j3', good);
      expect(await store.events('j3')).toHaveLength(1);
      await store.close();
    });

    it('deletes a job with its state, keeps identity', async () => {
      const store = await open();
      await store.putJob(
        { jobId: 'j4', manifest: splitJobSpec(specOf([])).manifest, createdAt: 1 },
        new Map(),
      );
      await store.commit('j4', {
        job: { jobId: 'j4', state: 'running', seq: 1, updatedAt: 1 },
        tasks: [{ jobId: 'j4', taskId: 'a', state: 'ready', attempts: 1 }],
        results: [],
        removedResults: [],
        events: [{ jobId: 'j4', seq: 1, at: 1, type: 'job-started' }],
      });
      await store.deleteJob('j4');
      expect(await store.getJob('j4')).toBeUndefined();
      expect(await store.loadSnapshot('j4')).toBeUndefined();
      expect(await store.events('j4')).toEqual([]);
      expect(await store.getIdentity()).toBeUndefined();
      const jwk = {
        publicKey: { kty: 'OKP', crv: 'Ed25519', x: 'abc' },
        privateKey: { kty: 'OKP', d: 'xyz' },
      };
      await store.setIdentity(jwk as never);
      expect(await store.getIdentity()).toEqual(jwk);
      await store.close();
    });
  });
}

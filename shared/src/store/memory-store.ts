/** An in-memory `JobStore` for tests and the simulator; same semantics as the IndexedDB one. */
import { PeerGridError } from '../errors.ts';
import type { IdentityJwk } from '../identity.ts';
import type { ReputationRecord } from '../job/reputation.ts';
import type { JobEvent, JobRecordState, ResultRecord, TaskRecord } from '../job/types.ts';
import { checkDelta, type JobStore, type StoredJob } from './job-store.ts';

export function createMemoryJobStore(): JobStore {
  const jobs = new Map<string, StoredJob>();
  const blobs = new Map<string, Uint8Array>();
  const state = new Map<string, JobRecordState>();
  const tasks = new Map<string, Map<string, TaskRecord>>();
  const results = new Map<string, Map<string, ResultRecord>>();
  const events = new Map<string, Map<number, JobEvent>>();
  const reps = new Map<string, ReputationRecord>();
  let identity: IdentityJwk | undefined;
  let closed = false;
  const open = () => {
    if (closed) throw new PeerGridError('store-closed', 'the job store is closed');
  };
  /** `v`, unless the store is closed. */
  const live = <T>(v: T): T => {
    open();
    return v;
  };
  const sub = <T>(m: Map<string, Map<string, T>>, jobId: string) => {
    const s = m.get(jobId) ?? new Map<string, T>();
    m.set(jobId, s);
    return s;
  };

  return {
    async putJob(job, bs) {
      open();
      jobs.set(job.jobId, job);
      for (const [h, b] of bs) blobs.set(h, b.slice());
    },
    getJob: async (id) => live(jobs.get(id)),
    listJobs: async () => live([...jobs.values()]),
    async deleteJob(id) {
      open();
      for (const m of [jobs, state, tasks, results, events]) m.delete(id);
    },
    async putBlob(h, b) {
      open();
      blobs.set(h, b.slice());
    },
    getBlob: async (h) => live(blobs.get(h)?.slice()),
    async commit(jobId, delta, reputations = []) {
      open();
      const bad = checkDelta(jobId, delta);
      if (bad) throw new PeerGridError('bad-record', bad);
      state.set(jobId, delta.job);
      for (const t of delta.tasks) sub(tasks, jobId).set(t.taskId, t);
      for (const id of delta.removedResults) results.get(jobId)?.delete(id);
      for (const r of delta.results) sub(results, jobId).set(r.taskId, r);
      const ev = events.get(jobId) ?? new Map<number, JobEvent>();
      events.set(jobId, ev);
      for (const e of delta.events) ev.set(e.seq, e);
      for (const r of reputations) reps.set(r.peerId, r);
    },
    async loadSnapshot(jobId) {
      open();
      const job = state.get(jobId);
      if (!job) return undefined;
      return {
        job,
        tasks: [...(tasks.get(jobId)?.values() ?? [])],
        results: [...(results.get(jobId)?.values() ?? [])],
      };
    },
    async getResults(jobId, taskIds) {
      open();
      const m = results.get(jobId);
      return taskIds.flatMap((id) => {
        const r = m?.get(id);
        return r ? [r] : [];
      });
    },
    async *results(jobId) {
      open();
      yield* [...(results.get(jobId)?.values() ?? [])];
    },
    async events(jobId, afterSeq = 0) {
      open();
      return [...(events.get(jobId)?.values() ?? [])]
        .filter((e) => e.seq > afterSeq)
        .sort((a, b) => a.seq - b.seq);
    },
    reputations: async () => live([...reps.values()]),
    getIdentity: async () => live(identity),
    async setIdentity(jwk) {
      open();
      identity = jwk;
    },
    async close() {
      closed = true;
    },
  };
}

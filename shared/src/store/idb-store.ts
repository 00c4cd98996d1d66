/**
 * The page's `JobStore` on IndexedDB (through `idb`). Platform-bound: reached
 * only through the `@peergrid/shared/idb-store` entry, never from index.ts.
 *
 * Schema (versioned; `upgrade` walks every step from the stored version):
 * - v1: jobs, jobState, tasks, results, blobs, events
 * - v2: reputations, meta (own identity key)
 * Each `commit` is one readwrite transaction over every store it touches, so a
 * crash or a closed tab leaves either the whole delta or none of it.
 */
import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import { PeerGridError } from '../errors.ts';
import type { IdentityJwk } from '../identity.ts';
import type { ReputationRecord } from '../job/reputation.ts';
import type { JobEvent, JobRecordState, ResultRecord, TaskRecord } from '../job/types.ts';
import { checkDelta, type JobStore, type StoredJob } from './job-store.ts';

/** Current schema version. */
export const IDB_SCHEMA_VERSION = 2;

interface PeerGridDb extends DBSchema {
  jobs: { key: string; value: StoredJob };
  jobState: { key: string; value: JobRecordState };
  tasks: { key: [string, string]; value: TaskRecord };
  results: { key: [string, string]; value: ResultRecord };
  blobs: { key: string; value: Uint8Array };
  events: { key: [string, number]; value: JobEvent };
  reputations: { key: string; value: ReputationRecord };
  meta: { key: string; value: unknown };
}

export interface IdbJobStoreOptions {
  /** Database name. Default 'peergrid'. */
  readonly name?: string;
  /** Schema version to open (tests open older ones). Default `IDB_SCHEMA_VERSION`. */
  readonly version?: number;
  /**
   * Events kept per job, the oldest dropped first (in the commit that passes
   * the limit), as the CLI's disk store does. Default 10 000.
   */
  readonly maxEventsPerJob?: number;
}

type Db = IDBPDatabase<PeerGridDb>;

function upgrade(db: Db, oldVersion: number, newVersion: number): void {
  if (oldVersion < 1 && newVersion >= 1) {
    db.createObjectStore('jobs', { keyPath: 'jobId' });
    db.createObjectStore('jobState', { keyPath: 'jobId' });
    db.createObjectStore('tasks', { keyPath: ['jobId', 'taskId'] });
    db.createObjectStore('results', { keyPath: ['jobId', 'taskId'] });
    db.createObjectStore('blobs');
    db.createObjectStore('events', { keyPath: ['jobId', 'seq'] });
  }
  if (oldVersion < 2 && newVersion >= 2) {
    db.createObjectStore('reputations', { keyPath: 'peerId' });
    db.createObjectStore('meta');
  }
}

// shared/ compiles without the DOM lib (so a stray DOM use elsewhere fails to
// build); the one global this file needs is declared here, idb brings the rest.
declare const IDBKeyRange: {
  bound(lower: unknown, upper: unknown, lowerOpen?: boolean, upperOpen?: boolean): never;
};

/** Results read per request when listing a job's results. */
const RESULTS_PAGE = 256;

/** All keys `[jobId, *]` of a compound-keyed store. */
const ofJob = (jobId: string) => IDBKeyRange.bound([jobId], [jobId, []]);

/** Opens (creating or upgrading) the database. */
export async function openIdbJobStore(options: IdbJobStoreOptions = {}): Promise<JobStore> {
  const maxEvents = options.maxEventsPerJob ?? 10_000;
  const db: Db = await openDB<PeerGridDb>(
    options.name ?? 'peergrid',
    options.version ?? IDB_SCHEMA_VERSION,
    {
      upgrade: (d, oldV, newV) => upgrade(d, oldV, newV ?? IDB_SCHEMA_VERSION),
    },
  );

  return {
    async putJob(job, blobs) {
      const tx = db.transaction(['jobs', 'blobs'], 'readwrite');
      await Promise.all([
        tx.objectStore('jobs').put(job),
        ...[...blobs].map(([h, b]) => tx.objectStore('blobs').put(b, h)),
        tx.done,
      ]);
    },
    getJob: (id) => db.get('jobs', id),
    listJobs: () => db.getAll('jobs'),
    async deleteJob(id) {
      const tx = db.transaction(['jobs', 'jobState', 'tasks', 'results', 'events'], 'readwrite');
      await Promise.all([
        tx.objectStore('jobs').delete(id),
        tx.objectStore('jobState').delete(id),
        tx.objectStore('tasks').delete(ofJob(id)),
        tx.objectStore('results').delete(ofJob(id)),
        tx.objectStore('events').delete(ofJob(id)),
        tx.done,
      ]);
    },
    async putBlob(h, b) {
      await db.put('blobs', b, h);
    },
    getBlob: (h) => db.get('blobs', h),
    async commit(jobId, delta, reputations = []) {
      const bad = checkDelta(jobId, delta);
      if (bad) throw new PeerGridError('bad-record', bad);
      const tx = db.transaction(
        ['jobState', 'tasks', 'results', 'events', 'reputations'],
        'readwrite',
      );
      const ops: Promise<unknown>[] = [];
      try {
        ops.push(tx.objectStore('jobState').put(delta.job));
        for (const t of delta.tasks) ops.push(tx.objectStore('tasks').put(t));
        for (const id of delta.removedResults)
          ops.push(tx.objectStore('results').delete([jobId, id]));
        for (const r of delta.results) ops.push(tx.objectStore('results').put(r));
        const last = delta.events.at(-1)?.seq ?? 0;
        // Events this commit would drop again (past the newest maxEvents) are not written.
        for (const e of delta.events)
          if (e.seq > last - maxEvents) ops.push(tx.objectStore('events').put(e));
        if (last > maxEvents) {
          const old = IDBKeyRange.bound(
            [jobId, Number.NEGATIVE_INFINITY],
            [jobId, last - maxEvents],
          );
          ops.push(tx.objectStore('events').delete(old));
        }
        for (const r of reputations) ops.push(tx.objectStore('reputations').put(r));
      } catch (err) {
        // A request that throws (e.g. DataCloneError) would otherwise let the
        // earlier ones commit: abort so nothing of the delta remains.
        tx.abort();
        await Promise.allSettled([...ops, tx.done]);
        throw err;
      }
      // A request that fails asynchronously aborts the transaction by itself.
      await Promise.all([...ops, tx.done]);
    },
    async loadSnapshot(jobId, options) {
      const tx = db.transaction(['jobState', 'tasks', 'results'], 'readonly');
      const lean = options?.withoutOutputs;
      if (!lean) {
        const [job, tasks, results] = await Promise.all([
          tx.objectStore('jobState').get(jobId),
          tx.objectStore('tasks').getAll(ofJob(jobId)),
          tx.objectStore('results').getAll(ofJob(jobId)),
        ]);
        return job ? { job, tasks, results } : undefined;
      }
      const [job, tasks] = await Promise.all([
        tx.objectStore('jobState').get(jobId),
        tx.objectStore('tasks').getAll(ofJob(jobId)),
      ]);
      if (!job) return undefined;
      // Results a page at a time, the outputs the engine keeps apart dropped as they come:
      // memory holds one page of outputs, not the job's.
      const results: ResultRecord[] = [];
      let after: [string, string] | undefined;
      for (;;) {
        const range = after ? IDBKeyRange.bound(after, [jobId, []], true) : ofJob(jobId);
        const page = await tx.objectStore('results').getAll(range, RESULTS_PAGE);
        for (const r of page) results.push(lean(r.taskId, r.bound) ? { ...r, outputs: {} } : r);
        if (page.length < RESULTS_PAGE) break;
        after = [jobId, page[page.length - 1]!.taskId];
      }
      await tx.done;
      return { job, tasks, results };
    },
    async getResults(jobId, taskIds) {
      const tx = db.transaction('results', 'readonly');
      const found = await Promise.all(taskIds.map((id) => tx.store.get([jobId, id])));
      await tx.done;
      return found.filter((r): r is ResultRecord => r !== undefined);
    },
    async *results(jobId) {
      let after: [string, string] | undefined;
      for (;;) {
        const range = after ? IDBKeyRange.bound(after, [jobId, []], true) : ofJob(jobId);
        const page = await db.getAll('results', range, RESULTS_PAGE);
        yield* page;
        if (page.length < RESULTS_PAGE) return;
        after = [jobId, page[page.length - 1]!.taskId];
      }
    },
    events: (jobId, afterSeq = 0) =>
      db.getAll(
        'events',
        IDBKeyRange.bound([jobId, afterSeq], [jobId, Number.POSITIVE_INFINITY], true),
      ),
    reputations: () => db.getAll('reputations'),
    getIdentity: async () => (await db.get('meta', 'identity')) as IdentityJwk | undefined,
    async setIdentity(jwk) {
      await db.put('meta', jwk, 'identity');
    },
    async close() {
      db.close();
    },
  };
}

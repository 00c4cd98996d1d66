/**
 * A JobStore on disk for the `peergrid` CLI, with the semantics of the
 * in-memory and IndexedDB stores. Layout under `dir`:
 *   jobs/<jobId>.job   the job's manifest (msgpack)
 *   blobs/<sha256>     models and input tensors (see disk-blob-cache.ts)
 *   state.mdb          task records, results, events, reputations (LMDB)
 *   identity.json      this submitter's key pair
 * Each `commit()` is one LMDB transaction: all of it or none of it, after a
 * crash too. Nothing is held in memory: a job of a million results reads
 * them back a page at a time. A directory written by the earlier layout
 * (commits/ and state.snapshot) is imported on open. One process per dir.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  checkDelta,
  type EngineDelta,
  type IdentityJwk,
  type JobEvent,
  type JobRecordState,
  type JobStore,
  PeerGridError,
  type ReputationRecord,
  type ResultRecord,
  type StoredJob,
  type TaskRecord,
} from '@peergrid/shared';
import { open as openLmdb, type RootDatabase } from 'lmdb';
import { Packr } from 'msgpackr';
import { writeFileAtomic } from './atomic-file.ts';
import { createDiskBlobCache } from './disk-blob-cache.ts';

export interface DiskJobStoreOptions {
  /** Events kept per job (oldest dropped first). Default 10 000. */
  readonly maxEventsPerJob?: number;
  /**
   * Read without taking the directory's lock (e.g. `peergrid status` while a
   * run is going); writes are refused. Default false.
   */
  readonly readOnly?: boolean;
}

/** Takes `dir/state.lock` for this process; a lock left by a dead process is taken over. */
async function lockDir(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, 'state.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, String(process.pid), { flag: 'wx' });
      return () => rm(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(await readFile(path, 'utf8').catch(() => ''));
      let alive = false;
      try {
        alive = pid > 0 && process.kill(pid, 0);
      } catch {
        alive = false;
      }
      if (alive && pid !== process.pid) {
        throw new PeerGridError('store-locked', `${dir} is in use by process ${pid}`);
      }
      await rm(path, { force: true });
    }
  }
  throw new PeerGridError('store-locked', `could not lock ${dir}`);
}

/** The earlier layout's records (imported once, then removed). */
interface LegacyCommit {
  readonly seq: number;
  readonly jobId: string;
  readonly delta: EngineDelta;
  readonly reputations: readonly ReputationRecord[];
}
interface LegacySnapshot {
  readonly seq: number;
  readonly jobs: Record<
    string,
    { job?: JobRecordState; tasks: TaskRecord[]; results: ResultRecord[]; events: JobEvent[] }
  >;
  readonly reputations: ReputationRecord[];
}

const SEQ_DIGITS = 12;
/** Results read per LMDB range step when listing a job's results. */
const RESULTS_PAGE = 256;
const EMPTY = new Uint8Array(0);
/** A page of results also ends past this many bytes (large outputs: a few per page). */
const RESULTS_PAGE_BYTES = 64 * 1024 * 1024;

/** `moreTypes`: typed arrays (tensor bytes) come back as Uint8Array, not Buffer. */
const codec = new Packr({ moreTypes: true });
const pack = (v: unknown) => codec.pack(v);
const unpack = (b: Uint8Array) => codec.unpack(b) as unknown;

/**
 * Keys: a kind letter, then the job id and the record's own key, NUL-separated
 * (ids never hold NUL: job ids are checked, task ids come from the spec).
 */
const key = {
  job: (jobId: string) => `j\0${jobId}`,
  task: (jobId: string, taskId: string) => `t\0${short(jobId)}\0${ordered(taskId)}`,
  result: (jobId: string, taskId: string) => `r\0${short(jobId)}\0${ordered(taskId)}`,
  event: (jobId: string, seq: number) =>
    `e\0${short(jobId)}\0${String(seq).padStart(SEQ_DIGITS, '0')}`,
  rep: (peerId: string) => `p\0${peerId}`,
};
/** The range of one kind's keys of a job. */
const span = (kind: 't' | 'r' | 'e', jobId: string) => ({
  start: `${kind}\0${short(jobId)}\0`,
  end: `${kind}\0${short(jobId)}\u0001`,
});
/**
 * A job's part of a record key: its first 16 characters (64 bits of a
 * content hash), not all 64 in every key. The full id is the job key.
 */
const short = (jobId: string) => jobId.slice(0, 16);
/**
 * A task id in key order: a trailing number gets its length first
 * (`mm-9` → `mm-019`, `mm-10` → `mm-0210`), so a group's tasks sort by
 * position and a job's records are written near each other, not all over the
 * tree. One-to-one: the id before its number never ends in a digit.
 */
const ordered = (taskId: string) =>
  taskId.replace(/[0-9]+$/, (d) => `${String(d.length).padStart(2, '0')}${d}`);
/** Records are stored without their job id (the key holds it), and get it back on reading. */
const strip = <T extends { readonly jobId: string }>(r: T) => {
  const { jobId: _, ...rest } = r;
  return rest;
};

export async function openDiskJobStore(
  dir: string,
  options: DiskJobStoreOptions = {},
): Promise<JobStore> {
  const maxEvents = options.maxEventsPerJob ?? 10_000;
  const jobsDir = join(dir, 'jobs');
  await mkdir(jobsDir, { recursive: true });
  const unlock = options.readOnly ? async () => {} : await lockDir(dir);
  const blobs = await createDiskBlobCache(join(dir, 'blobs'), { memoryBytes: 64 * 1024 * 1024 });
  const db: RootDatabase<Uint8Array, string> = openLmdb({
    path: join(dir, 'state.mdb'),
    encoding: 'binary',
    ...(options.readOnly ? { readOnly: true } : {}),
  });
  let closed = false;
  const get = <T>(k: string): T | undefined => {
    const v = db.getBinary(k);
    return v ? (unpack(v) as T) : undefined;
  };
  const range = function* <T>(r: { start: string; end: string }) {
    for (const { value } of db.getRange(r)) yield unpack(value) as T;
  };
  /** A job's records of one kind, with their job id back. */
  const ofJob = function* <T>(jobId: string, r: { start: string; end: string }) {
    for (const v of range<Omit<T, 'jobId'>>(r)) yield { ...v, jobId } as T;
  };

  /** The job's newest event seq, and drops events older than the last `maxEvents`. */
  const trimEvents = (jobId: string, newest: number) => {
    const cut = newest - maxEvents;
    if (cut <= 0) return;
    const s = span('e', jobId);
    for (const k of db.getKeys({ start: s.start, end: key.event(jobId, cut + 1) })) db.remove(k);
  };
  const apply = (jobId: string, delta: EngineDelta, reputations: readonly ReputationRecord[]) => {
    db.put(key.job(jobId), pack(delta.job));
    for (const t of delta.tasks) db.put(key.task(jobId, t.taskId), pack(strip(t)));
    for (const id of delta.removedResults) db.remove(key.result(jobId, id));
    for (const r of delta.results) db.put(key.result(jobId, r.taskId), pack(strip(r)));
    let newest = 0;
    for (const e of delta.events) {
      db.put(key.event(jobId, e.seq), pack(strip(e)));
      newest = Math.max(newest, e.seq);
    }
    if (newest > 0) trimEvents(jobId, newest);
    for (const r of reputations) db.put(key.rep(r.peerId), pack(r));
  };

  if (!options.readOnly) await importLegacy(dir, db, apply);

  const open = () => {
    if (closed) throw new PeerGridError('store-closed', 'the job store is closed');
  };
  const writable = () => {
    open();
    if (options.readOnly)
      throw new PeerGridError('read-only', 'the job store was opened read-only');
  };

  const jobPath = (jobId: string) => {
    if (!/^[0-9a-zA-Z_-]{1,128}$/.test(jobId)) throw new PeerGridError('bad-record', 'bad job id');
    return join(jobsDir, `${jobId}.job`);
  };
  const readJob = async (jobId: string): Promise<StoredJob | undefined> => {
    try {
      return unpack(await readFile(jobPath(jobId))) as StoredJob;
    } catch {
      return undefined;
    }
  };

  return {
    async putJob(job, bs) {
      writable();
      for (const [h, b] of bs) await blobs.put(h, b);
      await writeFileAtomic(jobPath(job.jobId), pack(job));
    },
    async getJob(jobId) {
      open();
      return readJob(jobId);
    },
    async listJobs() {
      open();
      const out: StoredJob[] = [];
      for (const name of (await readdir(jobsDir)).filter((n) => n.endsWith('.job')).sort()) {
        const j = await readJob(name.slice(0, -4));
        if (j) out.push(j);
      }
      return out;
    },
    async deleteJob(jobId) {
      writable();
      await rm(jobPath(jobId), { force: true });
      await db.transaction(() => {
        db.remove(key.job(jobId));
        for (const kind of ['t', 'r', 'e'] as const)
          for (const k of db.getKeys(span(kind, jobId))) db.remove(k);
      });
    },
    async putBlob(h, b) {
      writable();
      await blobs.put(h, b);
    },
    async getBlob(h) {
      open();
      return (await blobs.get(h))?.slice();
    },
    async commit(jobId, delta, reputations = []) {
      writable();
      const bad = checkDelta(jobId, delta);
      if (bad) throw new PeerGridError('bad-record', bad);
      jobPath(jobId); // refuses a job id the keys could not hold
      await db.transaction(() => apply(jobId, delta, reputations));
    },
    async loadSnapshot(jobId, options) {
      open();
      const job = get<JobRecordState>(key.job(jobId));
      if (!job) return undefined;
      // Outputs the engine keeps apart are dropped as each record is read (`SnapshotOptions`).
      const lean = options?.withoutOutputs;
      const results: ResultRecord[] = [];
      for (const r of ofJob<ResultRecord>(jobId, span('r', jobId)))
        results.push(lean?.(r.taskId, r.bound) ? { ...r, outputs: {} } : r);
      return { job, tasks: [...ofJob<TaskRecord>(jobId, span('t', jobId))], results };
    },
    async getResults(jobId, taskIds) {
      open();
      return taskIds.flatMap((id) => {
        const r = get<Omit<ResultRecord, 'jobId'>>(key.result(jobId, id));
        return r ? [{ ...r, jobId }] : [];
      });
    },
    async *results(jobId) {
      open();
      let start = span('r', jobId).start;
      const { end } = span('r', jobId);
      for (;;) {
        const page: { key: unknown; value: Uint8Array }[] = [];
        let bytes = 0;
        for (const e of db.getRange({ start, end, limit: RESULTS_PAGE })) {
          page.push(e as { key: unknown; value: Uint8Array });
          bytes += (e.value as Uint8Array).byteLength;
          if (bytes >= RESULTS_PAGE_BYTES) break;
        }
        if (page.length === 0) return;
        const full = page.length === RESULTS_PAGE || bytes >= RESULTS_PAGE_BYTES;
        // Each record leaves the page as it is decoded, so a page's bytes are held once.
        for (let i = 0; i < page.length; i++) {
          const { value } = page[i]!;
          page[i] = { key: page[i]!.key, value: EMPTY };
          yield { ...(unpack(value) as Omit<ResultRecord, 'jobId'>), jobId };
        }
        if (!full) return;
        start = `${page[page.length - 1]!.key}\0`; // just past the last key read
      }
    },
    async events(jobId, afterSeq = 0) {
      open();
      return [
        ...ofJob<JobEvent>(jobId, {
          start: key.event(jobId, afterSeq + 1),
          end: span('e', jobId).end,
        }),
      ];
    },
    async reputations() {
      open();
      return [...range<ReputationRecord>({ start: 'p\0', end: 'p\u0001' })];
    },
    async getIdentity() {
      open();
      try {
        return JSON.parse(await readFile(join(dir, 'identity.json'), 'utf8')) as IdentityJwk;
      } catch {
        return undefined;
      }
    },
    async setIdentity(jwk) {
      writable();
      await writeFileAtomic(join(dir, 'identity.json'), JSON.stringify(jwk));
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.close();
      await unlock();
    },
  };
}

/**
 * Imports a directory of the earlier layout (a snapshot plus newer commit
 * files, replayed in order as that layout did) in one transaction, then
 * removes its files.
 */
async function importLegacy(
  dir: string,
  db: RootDatabase<Uint8Array, string>,
  apply: (jobId: string, delta: EngineDelta, reputations: readonly ReputationRecord[]) => void,
): Promise<void> {
  const snapPath = join(dir, 'state.snapshot');
  const commitsDir = join(dir, 'commits');
  let snap: LegacySnapshot | undefined;
  try {
    snap = unpack(await readFile(snapPath)) as LegacySnapshot;
  } catch {
    snap = undefined;
  }
  const names = (await readdir(commitsDir).catch(() => [] as string[]))
    .filter((n) => n.endsWith('.commit'))
    .sort();
  if (!snap && names.length === 0) return;
  const commits: LegacyCommit[] = [];
  for (const name of names) {
    if (!(Number(name.slice(0, SEQ_DIGITS)) > (snap?.seq ?? 0))) continue;
    try {
      commits.push(unpack(await readFile(join(commitsDir, name))) as LegacyCommit);
    } catch {
      break; // unreadable: nothing after it can be trusted to apply in order
    }
  }
  await db.transaction(() => {
    for (const [jobId, j] of Object.entries(snap?.jobs ?? {})) {
      if (!j.job) continue;
      apply(
        jobId,
        { job: j.job, tasks: j.tasks, results: j.results, removedResults: [], events: j.events },
        [],
      );
    }
    for (const r of snap?.reputations ?? []) db.put(`p\0${r.peerId}`, pack(r));
    for (const c of commits) apply(c.jobId, c.delta, c.reputations);
  });
  await rm(commitsDir, { recursive: true, force: true });
  await rm(snapPath, { force: true });
}

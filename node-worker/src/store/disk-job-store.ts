/**
 * A JobStore on disk for the `peergrid` CLI, with the semantics of the
 * in-memory and IndexedDB stores. Layout under `dir`:
 *   jobs/<jobId>.job       the job's manifest (msgpack)
 *   blobs/<sha256>         models and input tensors (see disk-blob-cache.ts)
 *   commits/<seq>.commit   one file per `commit()`: an engine delta + reputations
 *   state.snapshot         everything committed up to a seq (compaction)
 *   identity.json          this submitter's key pair
 * Each file is written whole (temp + rename), so a commit is all or nothing;
 * opening replays the snapshot then the newer commits. One process per dir.
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
import { Packr } from 'msgpackr';
import { writeFileAtomic } from './atomic-file.ts';
import { createDiskBlobCache } from './disk-blob-cache.ts';

export interface DiskJobStoreOptions {
  /** Commits between two snapshots (older commit files are then deleted). Default 256. */
  readonly compactEvery?: number;
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

interface JobData {
  job?: JobRecordState;
  tasks: Map<string, TaskRecord>;
  results: Map<string, ResultRecord>;
  events: JobEvent[];
}

interface Commit {
  readonly seq: number;
  readonly jobId: string;
  readonly delta: EngineDelta;
  readonly reputations: readonly ReputationRecord[];
}

interface Snapshot {
  readonly seq: number;
  readonly jobs: Record<
    string,
    { job?: JobRecordState; tasks: TaskRecord[]; results: ResultRecord[]; events: JobEvent[] }
  >;
  readonly reputations: ReputationRecord[];
}

const SEQ_DIGITS = 12;

/** `moreTypes`: typed arrays (tensor bytes) come back as Uint8Array, not Buffer. */
const codec = new Packr({ moreTypes: true });
const pack = (v: unknown) => codec.pack(v);
const unpack = (b: Uint8Array) => codec.unpack(b) as unknown;

export async function openDiskJobStore(
  dir: string,
  options: DiskJobStoreOptions = {},
): Promise<JobStore> {
  const compactEvery = options.compactEvery ?? 256;
  const maxEvents = options.maxEventsPerJob ?? 10_000;
  const jobsDir = join(dir, 'jobs');
  const commitsDir = join(dir, 'commits');
  await mkdir(jobsDir, { recursive: true });
  await mkdir(commitsDir, { recursive: true });
  const unlock = options.readOnly ? async () => {} : await lockDir(dir);
  const blobs = await createDiskBlobCache(join(dir, 'blobs'), { memoryBytes: 64 * 1024 * 1024 });
  const data = new Map<string, JobData>();
  const reps = new Map<string, ReputationRecord>();
  let seq = 0;
  let sinceSnapshot = 0;
  let closed = false;

  const jobData = (jobId: string) => {
    let d = data.get(jobId);
    if (!d) {
      d = { tasks: new Map(), results: new Map(), events: [] };
      data.set(jobId, d);
    }
    return d;
  };
  const apply = (c: Commit) => {
    const d = jobData(c.jobId);
    d.job = c.delta.job;
    for (const t of c.delta.tasks) d.tasks.set(t.taskId, t);
    for (const id of c.delta.removedResults) d.results.delete(id);
    for (const r of c.delta.results) d.results.set(r.taskId, r);
    d.events.push(...c.delta.events);
    if (d.events.length > maxEvents) d.events.splice(0, d.events.length - maxEvents);
    for (const r of c.reputations) reps.set(r.peerId, r);
  };

  // Load: snapshot, then newer commits in order.
  try {
    const snap = unpack(await readFile(join(dir, 'state.snapshot'))) as Snapshot;
    seq = snap.seq;
    for (const [jobId, j] of Object.entries(snap.jobs)) {
      data.set(jobId, {
        ...(j.job ? { job: j.job } : {}),
        tasks: new Map(j.tasks.map((t) => [t.taskId, t])),
        results: new Map(j.results.map((r) => [r.taskId, r])),
        events: j.events,
      });
    }
    for (const r of snap.reputations) reps.set(r.peerId, r);
  } catch {
    // No snapshot yet.
  }
  const pending = (await readdir(commitsDir)).filter((n) => n.endsWith('.commit')).sort();
  for (const name of pending) {
    const n = Number(name.slice(0, SEQ_DIGITS));
    if (!(n > seq)) continue;
    try {
      apply(unpack(await readFile(join(commitsDir, name))) as Commit);
      seq = n;
      sinceSnapshot++;
    } catch {
      break; // unreadable: nothing after it can be trusted to apply in order
    }
  }

  const open = () => {
    if (closed) throw new PeerGridError('store-closed', 'the job store is closed');
  };
  const writable = () => {
    open();
    if (options.readOnly)
      throw new PeerGridError('read-only', 'the job store was opened read-only');
  };

  async function compact(): Promise<void> {
    const jobs: Snapshot['jobs'] = {};
    for (const [jobId, d] of data) {
      jobs[jobId] = {
        ...(d.job ? { job: d.job } : {}),
        tasks: [...d.tasks.values()],
        results: [...d.results.values()],
        events: d.events,
      };
    }
    const upTo = seq;
    await writeFileAtomic(
      join(dir, 'state.snapshot'),
      pack({ seq: upTo, jobs, reputations: [...reps.values()] } satisfies Snapshot),
    );
    sinceSnapshot = 0;
    for (const name of await readdir(commitsDir)) {
      if (Number(name.slice(0, SEQ_DIGITS)) <= upTo)
        await rm(join(commitsDir, name), { force: true });
    }
  }

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
      data.delete(jobId);
      await compact();
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
      const c: Commit = { seq: seq + 1, jobId, delta, reputations };
      const name = `${String(c.seq).padStart(SEQ_DIGITS, '0')}.commit`;
      await writeFileAtomic(join(commitsDir, name), pack(c));
      seq = c.seq;
      apply(c);
      if (++sinceSnapshot >= compactEvery) await compact();
    },
    async loadSnapshot(jobId) {
      open();
      const d = data.get(jobId);
      if (!d?.job) return undefined;
      return { job: d.job, tasks: [...d.tasks.values()], results: [...d.results.values()] };
    },
    async events(jobId, afterSeq = 0) {
      open();
      return (data.get(jobId)?.events ?? []).filter((e) => e.seq > afterSeq);
    },
    async reputations() {
      open();
      return [...reps.values()];
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
      if (sinceSnapshot > 0 && !options.readOnly) await compact();
      closed = true;
      await unlock();
    },
  };
}

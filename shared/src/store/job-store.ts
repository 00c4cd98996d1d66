/**
 * The job store: where a submitter keeps its jobs so a reload (or a restart
 * of the CLI) resumes them. Small on purpose: IndexedDB in the page
 * (`idb-store.ts`), disk in the Node CLI, memory in tests and the simulator.
 */
import type { IdentityJwk } from '../identity.ts';
import { canonicalBytes } from '../job/compare.ts';
import type { ReputationRecord } from '../job/reputation.ts';
import {
  type JobSpec,
  type Policy,
  resolvePolicy,
  type TaskGroup,
  type TaskSpec,
} from '../job/spec.ts';
import { createTaskSource, type TaskSource } from '../job/task-source.ts';
import type { EngineDelta, EngineSnapshot, JobEvent, ResultRecord } from '../job/types.ts';
import { isDType, type Tensor } from '../tensor.ts';

/** A job's spec without its bytes: models and blobs are referenced by hash (bytes in `blobs`). */
export interface JobManifest {
  readonly name?: string;
  readonly idempotencyKey?: string;
  readonly models: readonly string[];
  readonly blobs: readonly string[];
  readonly tasks: readonly TaskSpec[];
  readonly groups?: readonly TaskGroup[];
  readonly policy?: Partial<Policy>;
}

/** How much of a job's results `loadSnapshot` needs to bring into memory. */
export interface SnapshotOptions {
  /**
   * True for an accepted result whose outputs the engine will not read on
   * restore: a final group task nobody takes as input, which the engine keeps
   * apart (its bound and backers only) and recalls from the store when it is
   * weighed again (`snapshotLeanResults` builds it from a spec). A resume of a
   * million tasks then holds no million outputs.
   */
  readonly withoutOutputs?: (taskId: string, bound: number) => boolean;
}

/**
 * The `withoutOutputs` of a job: a result the engine restores apart (a group
 * task, final under the policy's target error, no explicit task's input),
 * exactly the ones `createJobEngine` keeps out of memory on restore.
 */
export function snapshotLeanResults(
  spec: JobSpec,
  source: Pick<TaskSource, 'indexOf' | 'explicit'> = createTaskSource(spec),
): (taskId: string, bound: number) => boolean {
  const targetError = resolvePolicy(spec.policy).targetError;
  const inputs = new Set<string>();
  for (const t of spec.tasks)
    for (const f of Object.values(t.feeds)) if ('fromTask' in f) inputs.add(f.fromTask);
  return (taskId, bound) =>
    bound <= targetError && !inputs.has(taskId) && source.indexOf(taskId) >= source.explicit;
}

export interface StoredJob {
  readonly jobId: string;
  readonly manifest: JobManifest;
  readonly createdAt: number;
}

export interface JobStore {
  /** Writes the job and its blobs in one transaction (idempotent: same id, same content). */
  putJob(job: StoredJob, blobs: ReadonlyMap<string, Uint8Array>): Promise<void>;
  getJob(jobId: string): Promise<StoredJob | undefined>;
  listJobs(): Promise<StoredJob[]>;
  /** Removes the job with its tasks, results, state and events (blobs stay: they are shared). */
  deleteJob(jobId: string): Promise<void>;
  putBlob(hash: string, bytes: Uint8Array): Promise<void>;
  getBlob(hash: string): Promise<Uint8Array | undefined>;
  /**
   * Applies an engine delta (and changed reputations) atomically: all of it or,
   * on a crash or error, none of it.
   */
  commit(
    jobId: string,
    delta: EngineDelta,
    reputations?: readonly ReputationRecord[],
  ): Promise<void>;
  /**
   * Durable engine state for `createJobEngine({restore})`, if the job ever
   * committed. With `options.withoutOutputs`, a store may return the results
   * it names with empty `outputs` (see `SnapshotOptions`); one that ignores it
   * is still right, only heavier.
   */
  loadSnapshot(jobId: string, options?: SnapshotOptions): Promise<EngineSnapshot | undefined>;
  /** The accepted results of these tasks that the store holds (any order). */
  getResults(jobId: string, taskIds: readonly string[]): Promise<ResultRecord[]>;
  /** Every accepted result of the job, a page at a time (memory stays bounded). */
  results(jobId: string): AsyncIterable<ResultRecord>;
  /** The job's event log in order, after `afterSeq` (default 0). */
  events(jobId: string, afterSeq?: number): Promise<JobEvent[]>;
  reputations(): Promise<ReputationRecord[]>;
  /** This peer's own Ed25519 key pair. */
  getIdentity(): Promise<IdentityJwk | undefined>;
  setIdentity(jwk: IdentityJwk): Promise<void>;
  close(): Promise<void>;
}

/** Inverse of `canonicalBytes`, or null when the bytes are not a canonical tensor. */
export function parseCanonicalTensor(bytes: Uint8Array): Tensor | null {
  let bars = 0;
  let i = 0;
  for (; i < bytes.byteLength && i < 256 && bars < 2; i++) if (bytes[i] === 0x7c) bars++;
  if (bars < 2) return null;
  const [dtype, dimText] = String.fromCharCode(...bytes.subarray(0, i - 1)).split('|');
  const dims = dimText === '' ? [] : (dimText ?? '').split(',').map(Number);
  if (!isDType(dtype) || dims.some((d) => !Number.isInteger(d) || d < 0)) return null;
  const data = bytes.slice(i);
  const t: Tensor = { dtype, dims, data };
  return canonicalBytes(t).byteLength === bytes.byteLength ? t : null;
}

/** Splits a spec into a manifest and its blobs (models' bytes, tensors' canonical bytes). */
export function splitJobSpec(spec: JobSpec): {
  manifest: JobManifest;
  blobs: Map<string, Uint8Array>;
} {
  const blobs = new Map<string, Uint8Array>();
  for (const [h, bytes] of Object.entries(spec.models)) blobs.set(h, bytes);
  for (const [h, t] of Object.entries(spec.blobs ?? {})) blobs.set(h, canonicalBytes(t));
  const manifest: JobManifest = {
    ...(spec.name !== undefined ? { name: spec.name } : {}),
    ...(spec.idempotencyKey !== undefined ? { idempotencyKey: spec.idempotencyKey } : {}),
    models: Object.keys(spec.models),
    blobs: Object.keys(spec.blobs ?? {}),
    tasks: spec.tasks,
    ...(spec.groups?.length ? { groups: spec.groups } : {}),
    ...(spec.policy ? { policy: spec.policy } : {}),
  };
  return { manifest, blobs };
}

/** Rebuilds a job's spec from the store; undefined when the job or one of its blobs is missing. */
export async function loadJobSpec(store: JobStore, jobId: string): Promise<JobSpec | undefined> {
  const job = await store.getJob(jobId);
  if (!job) return undefined;
  const models: Record<string, Uint8Array> = {};
  const blobs: Record<string, Tensor> = {};
  for (const h of job.manifest.models) {
    const b = await store.getBlob(h);
    if (!b) return undefined;
    models[h] = b;
  }
  for (const h of job.manifest.blobs) {
    const b = await store.getBlob(h);
    const t = b && parseCanonicalTensor(b);
    if (!t) return undefined;
    blobs[h] = t;
  }
  const { manifest: m } = job;
  return {
    ...(m.name !== undefined ? { name: m.name } : {}),
    ...(m.idempotencyKey !== undefined ? { idempotencyKey: m.idempotencyKey } : {}),
    models,
    blobs,
    tasks: m.tasks,
    ...(m.groups?.length ? { groups: m.groups } : {}),
    ...(m.policy ? { policy: m.policy } : {}),
  };
}

/** Checks a delta's keys before anything is written (every implementation refuses the same). */
export function checkDelta(jobId: string, delta: EngineDelta): string | null {
  const key = (x: unknown) => typeof x === 'string' && x.length > 0;
  if (delta.job.jobId !== jobId) return 'delta of another job';
  for (const t of delta.tasks) if (t.jobId !== jobId || !key(t.taskId)) return 'bad task record';
  for (const r of delta.results)
    if (r.jobId !== jobId || !key(r.taskId)) return 'bad result record';
  for (const e of delta.events) {
    if (e.jobId !== jobId || !Number.isInteger(e.seq)) return 'bad event record';
  }
  return null;
}

/**
 * Opens a job for running: validates it, derives its id, writes it (with its
 * blobs) to the store before anything is sent, and builds its engine,
 * restored from the store's snapshot when the job ran before (same id →
 * resume where it stopped).
 */
import { PeerGridError } from '../errors.ts';
import { createJobEngine, type JobEngine, type JobEngineOptions } from '../job/engine.ts';
import type { ReputationBook } from '../job/reputation.ts';
import { type JobSpec, jobIdOf, validateJob, verifyJobHashes } from '../job/spec.ts';
import type { Now, Random, Sha256Hex } from '../platform.ts';
import { type JobStore, snapshotLeanResults, splitJobSpec } from '../store/job-store.ts';

export interface PrepareJobOptions {
  readonly spec: JobSpec;
  readonly store: JobStore;
  readonly sha256: Sha256Hex;
  readonly now: Now;
  readonly random: Random;
  /** Shared by the submitter's jobs; load it from `store.reputations()`. */
  readonly reputation: ReputationBook;
  /** In-flight leases per donor the engine allows. Default 256 (the runner's lease window is the real bound). */
  readonly maxInFlightPerDonor?: number;
  /** Other engine options (how much of a large job stays in memory, the event log). */
  readonly engine?: Pick<
    JobEngineOptions,
    'recordEvents' | 'residentVerified' | 'residentResultBytes'
  >;
}

export interface PreparedJob {
  readonly jobId: string;
  readonly engine: JobEngine;
  /** The store held state of this job: the engine continues from it. */
  readonly resumed: boolean;
}

/** Throws a PeerGridError `bad-job` listing every problem when the spec is invalid. */
export async function prepareJob(o: PrepareJobOptions): Promise<PreparedJob> {
  const errors = [...validateJob(o.spec), ...(await verifyJobHashes(o.spec, o.sha256))];
  if (errors.length > 0) {
    throw new PeerGridError('bad-job', errors.map((e) => `${e.code}: ${e.message}`).join('; '));
  }
  const jobId = await jobIdOf(o.spec, o.sha256);
  if (!(await o.store.getJob(jobId))) {
    const { manifest, blobs } = splitJobSpec(o.spec);
    await o.store.putJob({ jobId, manifest, createdAt: o.now() }, blobs);
  }
  // Results the engine restores apart come without their outputs (a store may still bring them).
  const restore = await o.store.loadSnapshot(jobId, {
    withoutOutputs: snapshotLeanResults(o.spec),
  });
  const engine = createJobEngine({
    jobId,
    spec: o.spec,
    now: o.now,
    random: o.random,
    reputation: o.reputation,
    maxInFlightPerDonor: o.maxInFlightPerDonor ?? 256,
    ...(o.engine?.recordEvents !== undefined ? { recordEvents: o.engine.recordEvents } : {}),
    ...(o.engine?.residentVerified !== undefined
      ? { residentVerified: o.engine.residentVerified }
      : {}),
    ...(o.engine?.residentResultBytes !== undefined
      ? { residentResultBytes: o.engine.residentResultBytes }
      : {}),
    ...(restore ? { restore } : {}),
  });
  return { jobId, engine, resumed: restore !== undefined };
}

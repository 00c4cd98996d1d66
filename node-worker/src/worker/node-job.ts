/**
 * Submitting a job from Node: `prepareJob` and `createJobRunner` with Node's
 * SHA-256, clock (`Date.now`), timers and the CSPRNG (`cryptoRandom`) filled in.
 */
import {
  createJobRunner,
  createMemoryJobStore,
  createReputationBook,
  cryptoRandom,
  type JobRunner,
  type JobRunnerOptions,
  type JobSpec,
  type JobStore,
  type PreparedJob,
  prepareJob,
  type ReputationBook,
} from '@peergrid/shared';
import { nodeSha256, nodeTimers } from '../transport/node-peer-pool.ts';

export interface NodeJobOptions {
  readonly spec: JobSpec;
  /** Where the job and its deltas go. Default: a new in-memory store. */
  readonly store?: JobStore;
  /** The submitter's reputation book. Default: a new empty book. */
  readonly reputation?: ReputationBook;
}

/** Runner options other than those the prepared job fills in. */
export type NodeRunOptions = Omit<
  JobRunnerOptions,
  'peer' | 'engine' | 'spec' | 'store' | 'reputation' | 'now' | 'timers'
>;

export interface NodeJob extends PreparedJob {
  readonly store: JobStore;
  readonly reputation: ReputationBook;
  /** Starts the shared job runner for this job through `peer`. */
  run(peer: JobRunnerOptions['peer'], o?: NodeRunOptions): JobRunner;
}

/** `prepareJob` on Node; `run` then starts its runner (same store, reputation, clock). */
export async function prepareNodeJob(o: NodeJobOptions): Promise<NodeJob> {
  const { spec } = o;
  const store = o.store ?? createMemoryJobStore();
  const reputation = o.reputation ?? createReputationBook();
  const prepared = await prepareJob({
    spec,
    store,
    sha256: nodeSha256,
    now: Date.now,
    random: cryptoRandom,
    reputation,
  });
  const { engine } = prepared;
  return {
    ...prepared,
    store,
    reputation,
    run: (peer, r = {}) =>
      createJobRunner({
        ...r,
        peer,
        engine,
        spec,
        store,
        reputation,
        now: Date.now,
        timers: nodeTimers,
      }),
  };
}

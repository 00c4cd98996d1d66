/** The job engine's public surface: its options and its inputs and outputs. */
import type { PeerId } from '../contracts.ts';
import type { WireError } from '../errors.ts';
import type { Now, Random } from '../platform.ts';
import type { TensorMap } from '../tensor.ts';
import type { ReputationBook } from './reputation.ts';
import type { JobSpec } from './spec.ts';
import type { SpeedBook } from './speed-book.ts';
import type { JobState, TaskState } from './state.ts';
import type {
  DonorInfo,
  EngineAction,
  EngineDelta,
  EngineSnapshot,
  JobEvent,
  JobProgress,
  ResultRecord,
} from './types.ts';

export interface JobEngineOptions {
  /** Id from `jobIdOf(spec)`. */
  readonly jobId: string;
  /** The job; refused with `invalid-job` unless `validateJob` passes. */
  readonly spec: JobSpec;
  readonly now: Now;
  readonly random: Random;
  /** Shared across a submitter's jobs; persisted by the runtime. */
  readonly reputation: ReputationBook;
  /** State from a store, to resume after a reload. In-flight leases are re-issued. */
  readonly restore?: EngineSnapshot;
  /** Caps the leases in flight per donor: min(its `maxConcurrency`, this), at least 1. Default 4. */
  readonly maxInFlightPerDonor?: number;
  /**
   * Verified tasks of groups kept in memory: past it, the oldest final ones
   * leave memory when their results are taken for the store (`takeDelta`),
   * and come back through a `load` action when re-verification needs them.
   * Default 10 000.
   */
  readonly residentVerified?: number;
  /**
   * Bytes of verified group tasks' results kept in memory: past it, the
   * oldest final ones retire as past `residentVerified`, so a job whose
   * outputs exceed memory keeps only this much of them resident. Default 256 MiB.
   */
  readonly residentResultBytes?: number;
  /**
   * Donors' times per task, measured and advertised (shared across a
   * submitter's jobs, like the reputation book). Default: one of the job's own.
   */
  readonly speeds?: SpeedBook;
  /** Keep the event log (turn off in large simulations). Default true. */
  readonly recordEvents?: boolean;
}

export interface JobEngine {
  readonly jobId: string;
  /** A donor joined (or its capabilities changed). May assign work to it. */
  donorAvailable(info: DonorInfo): EngineAction[];
  /** A donor left: its leases are re-issued elsewhere. */
  donorGone(id: PeerId): EngineAction[];
  /** The donor acknowledged a lease (before `ackTimeoutMs`). */
  acked(leaseId: string): EngineAction[];
  /** The donor returned outputs; `computeMs` is its pure compute time (credit). */
  reported(leaseId: string, outputs: TensorMap, computeMs: number): EngineAction[];
  /** The results a `load` action asked for (`records` holds those the store had). */
  loaded(taskIds: readonly string[], records: readonly ResultRecord[]): EngineAction[];
  /** The donor could not run the lease. Counts as a failed attempt. */
  errored(leaseId: string, error: WireError): EngineAction[];
  /** Expires leases past their ack timeout or deadline; call on a timer (e.g. every second). */
  tick(): EngineAction[];
  /** Stops the job: every lease is cancelled. */
  cancel(): EngineAction[];
  /** The job's state (cheap; `progress` builds every figure). */
  state(): JobState;
  /** The chance that a fresh task placed on this donor now runs alone (adaptive replication). */
  soloChance(donor: PeerId): number;
  progress(): JobProgress;
  /** Accepted outputs of a verified task still in memory (a retired one's are in the store). */
  result(taskId: string): TensorMap | undefined;
  /**
   * A task's state now, resident or not (a retired task is verified, a group
   * task placement has not reached is ready); undefined for an unknown id.
   * Cheap: views read a window of a large job with it instead of `snapshot()`.
   */
  taskState(taskId: string): TaskState | undefined;
  /** Events since the last call, in order. */
  takeEvents(): JobEvent[];
  /** Changes since the last call, to write in one store transaction. */
  takeDelta(): EngineDelta;
  snapshot(): EngineSnapshot;
  /** Detaches from the reputation book. */
  close(): void;
}

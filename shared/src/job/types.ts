/**
 * The job engine's public shapes: donor info in, actions out, progress, events
 * and the records it hands to a `JobStore`.
 */
import type { Backend, Capabilities, PeerId } from '../contracts.ts';
import type { TensorMap } from '../tensor.ts';
import type { JobState, TaskState } from './state.ts';

/** A donor on offer to this job. */
export interface DonorInfo {
  readonly id: PeerId;
  readonly capabilities: Capabilities;
  /** Backend class its results come from. Default `capabilities.backends[0]`, else 'wasm'. */
  readonly backend?: Backend;
}

/** What the runtime must do next; returned by every engine input. */
export type EngineAction =
  | {
      readonly type: 'assign';
      readonly leaseId: string;
      readonly taskId: string;
      readonly donor: PeerId;
      readonly modelHash: string;
      /** Resolved input tensors. */
      readonly feeds: TensorMap;
      /** Output names to fetch; all when absent. */
      readonly outputs?: readonly string[];
      readonly backend: Backend;
      /** Absolute time (engine clock) by which the result is due. */
      readonly deadline: number;
      /** Absolute time by which the donor must acknowledge. */
      readonly ackBy: number;
    }
  /** Tell the donor to drop a lease (expired, superseded or cancelled). */
  | {
      readonly type: 'cancel';
      readonly leaseId: string;
      readonly donor: PeerId;
      readonly reason: string;
    };

export type JobEventType =
  | 'job-started'
  | 'job-completed'
  | 'job-failed'
  | 'job-cancelled'
  | 'job-reopened'
  /** Task transitions: each carries the task's new `state`. */
  | 'task-ready'
  | 'task-running'
  | 'task-verified'
  | 'task-reopened'
  | 'task-blocked'
  | 'task-failed'
  | 'task-disputed'
  | 'lease-issued'
  | 'lease-acked'
  | 'lease-reported'
  | 'lease-expired'
  | 'lease-errored'
  | 'lease-cancelled'
  /** How a reported lease fared: `verdict` and `creditMs`; once per lease. */
  | 'lease-verdict'
  | 'spot-passed'
  | 'spot-failed'
  | 'donor-excluded'
  | 'donor-reinstated';

/** One entry of a job's ordered event log. */
export interface JobEvent {
  readonly jobId: string;
  /** 1, 2, 3… per job, in order. */
  readonly seq: number;
  readonly at: number;
  readonly type: JobEventType;
  readonly taskId?: string;
  readonly leaseId?: string;
  readonly donor?: PeerId;
  readonly message?: string;
  /** `task-*` transitions: the task's state after the event. */
  readonly state?: TaskState;
  /** `task-verified`: donors whose matching results accepted it. */
  readonly backers?: number;
  /** `lease-verdict`: whether the lease's result agreed with the accepted one. */
  readonly verdict?: 'accepted' | 'rejected';
  /** `lease-verdict`: compute credited, ms (0 when rejected). */
  readonly creditMs?: number;
}

/** Durable state of one task (the store's `tasks`). */
export interface TaskRecord {
  readonly jobId: string;
  readonly taskId: string;
  readonly state: TaskState;
  readonly attempts: number;
  readonly failReason?: string;
}

/** An accepted result (the store's `results`). */
export interface ResultRecord {
  readonly jobId: string;
  readonly taskId: string;
  readonly outputs: TensorMap;
  /** Donors whose matching results accepted it. */
  readonly backers: readonly PeerId[];
  /** Backed by a trusted donor and one more (usable as a known answer). */
  readonly firm: boolean;
  readonly backend: Backend;
  readonly acceptedAt: number;
}

/** Durable state of the job itself. */
export interface JobRecordState {
  readonly jobId: string;
  readonly state: JobState;
  /** Last event seq written. */
  readonly seq: number;
  readonly updatedAt: number;
}

/** What changed since the last `takeDelta()`; write it in one store transaction. */
export interface EngineDelta {
  readonly job: JobRecordState;
  readonly tasks: readonly TaskRecord[];
  readonly results: readonly ResultRecord[];
  /** Results withdrawn by re-verification. */
  readonly removedResults: readonly string[];
  readonly events: readonly JobEvent[];
}

/** Full durable state, for restoring an engine after a reload. */
export interface EngineSnapshot {
  readonly job: JobRecordState;
  readonly tasks: readonly TaskRecord[];
  readonly results: readonly ResultRecord[];
}

export interface DonorStats {
  readonly id: PeerId;
  readonly backend: Backend;
  readonly inFlight: number;
  /** Results reported to this job. */
  readonly reported: number;
  readonly trusted: boolean;
  readonly excluded: boolean;
  readonly creditMs: number;
}

export interface JobProgress {
  readonly jobId: string;
  readonly state: JobState;
  readonly total: number;
  readonly tasks: Readonly<Record<TaskState, number>>;
  readonly leasesInFlight: number;
  /** Results received, spot checks included. */
  readonly resultsReceived: number;
  readonly spotChecks: {
    readonly issued: number;
    readonly passed: number;
    readonly failed: number;
  };
  readonly disputes: number;
  /** Accepted results re-opened because a backer was excluded or a check contradicted them. */
  readonly reopened: number;
  readonly soloAccepted: number;
  readonly donors: readonly DonorStats[];
  readonly failed: readonly { readonly taskId: string; readonly reason: string }[];
}

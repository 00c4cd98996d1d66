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
  /**
   * Tasks it runs at once: its own `maxConcurrency`, when the runtime offers
   * it a larger lease window as `capabilities.maxConcurrency`. Its speed is
   * this many runs per measured task time. Default `capabilities.maxConcurrency`.
   */
  readonly runs?: number;
  /**
   * An anchor: its results are right by construction (the submitter's own
   * executor). Donors named in `policy.trustedDonors` are anchors too. Default false.
   */
  readonly anchor?: boolean;
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
  /**
   * Read these tasks' accepted results from the store and hand them to
   * `engine.loaded`: retired tasks a re-verification needs back in memory.
   */
  | { readonly type: 'load'; readonly taskIds: readonly string[] }
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
  /** A result accepted before its bound met the target now meets it. */
  | 'task-final'
  | 'lease-issued'
  | 'lease-acked'
  | 'lease-reported'
  | 'lease-expired'
  | 'lease-errored'
  | 'lease-cancelled'
  /** How a reported lease fared: `verdict` and `creditMs`; once per lease. */
  | 'lease-verdict'
  /** An audit's result agreed with every other result of its task. */
  | 'audit-passed'
  /** An audit's result disagreed with another result of its task: a dispute it found. */
  | 'audit-failed'
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
  /** `task-verified` / `task-final`: the result's error bound. */
  readonly bound?: number;
  /** `lease-issued`: the lease is an audit (never on the wire). */
  readonly audit?: boolean;
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
  /**
   * Bound on the chance that the result is wrong, from its backers' audited
   * records when it was last weighed (0 when an anchor backs it). Final when
   * under the job's `targetError`.
   */
  readonly bound: number;
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
  /** It may run tasks alone (its audited record is long enough). */
  readonly trusted: boolean;
  readonly excluded: boolean;
  /** An anchor (own executor or a donor trusted by key). */
  readonly anchor: boolean;
  /** Its results confirmed by independent backers since it last lost a vote. */
  readonly audited: number;
  readonly creditMs: number;
}

export interface JobProgress {
  readonly jobId: string;
  readonly state: JobState;
  readonly total: number;
  readonly tasks: Readonly<Record<TaskState, number>>;
  /** Verified tasks kept in the store only (their nodes left memory; see `residentVerified`). */
  readonly retired: number;
  readonly leasesInFlight: number;
  /** Results received, audits included. */
  readonly resultsReceived: number;
  /** Hidden extra leases of fresh tasks, and how their results compared. */
  readonly audits: {
    readonly issued: number;
    readonly passed: number;
    readonly failed: number;
  };
  /** `policy.targetError`. */
  readonly targetError: number;
  /**
   * Upper bound on any accepted result's chance of being wrong: the highest
   * bound of results short of the target, else the highest a result held when
   * it was found final (0 before any).
   */
  readonly achievedError: number;
  /** Accepted results whose bound is under the target. */
  readonly final: number;
  /** Anchors on offer to this job, and the results they returned. */
  readonly anchors: { readonly donors: readonly PeerId[]; readonly results: number };
  /** Donors this job excluded, with the reason. */
  readonly excluded: readonly { readonly donor: PeerId; readonly reason: string }[];
  readonly disputes: number;
  /** Accepted results weighed again because a backer lost a vote or was excluded. */
  readonly reopened: number;
  readonly soloAccepted: number;
  readonly donors: readonly DonorStats[];
  readonly failed: readonly { readonly taskId: string; readonly reason: string }[];
}

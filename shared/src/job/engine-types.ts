/** The job engine's run-time state (internal to `engine-*.ts`). */
import type { Backend, PeerId } from '../contracts.ts';
import type { TensorMap } from '../tensor.ts';
import type { DonorSlot } from './scheduler.ts';
import type { TaskSpec } from './spec.ts';
import type { JobState, ReplicaState, TaskState } from './state.ts';
import type { JobEvent, ResultRecord } from './types.ts';

export interface VoteRt {
  readonly donor: PeerId;
  readonly outputs: TensorMap;
  readonly backend: Backend;
  readonly computeMs: number;
  readonly spot: boolean;
  credited: boolean;
}

export interface TaskRt {
  readonly spec: TaskSpec;
  readonly deps: TaskRt[];
  readonly dependents: TaskRt[];
  state: TaskState;
  attempts: number;
  /** Leases lost because their donor left (not persisted: a resume starts afresh). */
  departures: number;
  failReason?: string;
  results: VoteRt[];
  /** Donors holding a vote or an in-flight lease of this task. */
  used: Set<PeerId>;
  /** Leases of this task in flight, known-answer checks included. */
  readonly leases: Set<LeaseRt>;
  /** Non-spot leases in flight. */
  inFlight: number;
  target: number;
  solo: boolean;
  preferTrusted: boolean;
  backend?: Backend;
  feeds?: TensorMap;
  accepted?: ResultRecord;
  queued: boolean;
  /** A parked dispute waits for one more replica from a trusted donor only. */
  escalated?: boolean;
}

export interface LeaseRt {
  readonly id: string;
  readonly task: TaskRt;
  readonly donor: PeerId;
  readonly backend: Backend;
  readonly spot: boolean;
  readonly deadline: number;
  readonly ackBy: number;
  state: ReplicaState;
}

export interface DonorRt extends DonorSlot {
  inFlight: number;
  slots: number;
  backend: Backend;
  reported: number;
}

export interface EngineState {
  state: JobState;
  seq: number;
  readonly byId: Map<string, TaskRt>;
  readonly donors: Map<PeerId, DonorRt>;
  /** Leases in flight. */
  readonly leases: Map<string, LeaseRt>;
  readonly events: JobEvent[];
  readonly deltaEvents: JobEvent[];
  resultsReceived: number;
  leaseCounter: number;
  readonly spot: { issued: number; passed: number; failed: number };
  disputes: number;
  reopened: number;
  soloAccepted: number;
  /** Disputes settled by a strict majority when no other donor was on offer. */
  settled: number;
  readonly counts: Record<TaskState, number>;
  readonly failed: { taskId: string; reason: string }[];
}

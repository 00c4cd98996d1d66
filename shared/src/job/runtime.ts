/** The job engine's run-time records (internal to `shared/src/job`). */
import type { Backend, PeerId } from '../contracts.ts';
import type { TensorMap } from '../tensor.ts';
import type { DonorSlot } from './scheduler.ts';
import type { TaskSpec } from './spec.ts';
import type { ReplicaState, TaskState } from './state.ts';
import type { ResultRecord } from './types.ts';

/** One donor's result for a task (the outputs its lease returned). */
export interface ResultRt {
  readonly leaseId: string;
  readonly donor: PeerId;
  readonly outputs: TensorMap;
  readonly backend: Backend;
  readonly computeMs: number;
  /** It came back on an audit lease. */
  readonly audit: boolean;
  /** Its donor's record counted it as an agreement, and it was credited. */
  credited: boolean;
  /** Its verdict was told (`lease-verdict`); once per lease. */
  told: boolean;
}

export interface TaskRt {
  readonly spec: TaskSpec;
  /** Position in the job (see task-source.ts). */
  readonly index: number;
  readonly deps: TaskRt[];
  readonly dependents: TaskRt[];
  state: TaskState;
  attempts: number;
  /** Leases lost because their donor left (not persisted: a resume starts afresh). */
  departures: number;
  failReason?: string;
  results: ResultRt[];
  /** Donors holding a result or an in-flight lease of this task. */
  used: Set<PeerId>;
  /** Leases of this task in flight (the ledger keeps it). */
  readonly leases: Set<Lease>;
  /** Leases in flight (the ledger keeps it). */
  inFlight: number;
  /** Results to collect in all, this round. */
  target: number;
  /** Planned for one donor (adaptive replication). */
  solo: boolean;
  /** The next leases go to anchors and credible donors first (disputes, re-verification). */
  credible: boolean;
  /** The next lease goes to an anchor only (a dispute an anchor settles). */
  anchorOnly: boolean;
  /** Leases still to issue that are audits (counted apart; nothing on the wire says so). */
  auditsToIssue: number;
  /** The audit is drawn once the plan's other leases are placed (it depends on their donors). */
  auditToDraw: boolean;
  /** One lease of the first round goes to an anchor. */
  anchorPlanned: boolean;
  /** The accepted result's bound is under the target. */
  final: boolean;
  backend?: Backend;
  feeds?: TensorMap;
  accepted?: ResultRecord;
  queued: boolean;
}

/** A task sent to one donor, with a deadline. */
export interface Lease {
  /** Opaque: nothing in it tells tasks or kinds of lease apart. */
  readonly id: string;
  readonly task: TaskRt;
  readonly donor: PeerId;
  readonly backend: Backend;
  /** An audit (counted apart in the job's figures; on the wire like any lease). */
  readonly audit: boolean;
  readonly deadline: number;
  readonly ackBy: number;
  /** When it was issued (engine clock). */
  readonly issuedAt: number;
  /** When its result is expected, ms after `issuedAt` (its donor's queue and speed then). */
  readonly expectedMs: number;
  /** A backup of a straggling lease of the same task. */
  readonly backup: boolean;
  /** A backup of it was issued: it is not cancelled when its task is verified, and runs on. */
  backedUp: boolean;
  state: ReplicaState;
}

export interface DonorRt extends DonorSlot {
  /** Leases in flight (the ledger keeps it). */
  inFlight: number;
  slots: number;
  backend: Backend;
  /** Tasks it runs at once (<= slots; the rest of its window queues). */
  runs: number;
  /** When its last result came back (engine clock), if any: its service time is measured from it. */
  lastReportAt?: number;
  reported: number;
  /** Its results are right by construction. */
  readonly anchor: boolean;
}

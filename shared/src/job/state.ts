/**
 * Explicit state machines for jobs, tasks and replicas (leases). Every change
 * of state goes through `transition`, which refuses what the table forbids.
 */
import { PeerGridError } from '../errors.ts';

/**
 * A replica is one lease of a task to one donor.
 * pending → leased → acknowledged → reported → verified | rejected;
 * leased/acknowledged → expired (deadline, ack timeout, donor gone) | errored | cancelled.
 */
export type ReplicaState =
  | 'pending'
  | 'leased'
  | 'acknowledged'
  | 'reported'
  | 'verified'
  | 'rejected'
  | 'expired'
  | 'errored'
  | 'cancelled';

/**
 * blocked (waiting for inputs) → ready → running → verified | failed;
 * verified → running again when a result is re-verified (a backer was excluded
 * or lost a vote elsewhere, or a late result contradicted it), → blocked when an
 * input changed; any → failed
 * by propagation from a failed input.
 */
export type TaskState = 'blocked' | 'ready' | 'running' | 'verified' | 'failed';

/** pending → running → completed | failed; completed → running on re-verification. */
export type JobState = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';

const REPLICA: Readonly<Record<ReplicaState, readonly ReplicaState[]>> = {
  pending: ['leased', 'cancelled'],
  leased: ['acknowledged', 'reported', 'expired', 'errored', 'cancelled'],
  acknowledged: ['reported', 'expired', 'errored', 'cancelled'],
  reported: ['verified', 'rejected'],
  verified: ['rejected'],
  rejected: [],
  expired: [],
  errored: [],
  cancelled: [],
};

const TASK: Readonly<Record<TaskState, readonly TaskState[]>> = {
  blocked: ['ready', 'failed'],
  ready: ['running', 'failed', 'blocked'],
  running: ['verified', 'failed', 'blocked'],
  verified: ['running', 'blocked', 'failed'],
  failed: [],
};

const JOB: Readonly<Record<JobState, readonly JobState[]>> = {
  pending: ['running', 'cancelled', 'failed'],
  running: ['completed', 'failed', 'cancelled'],
  completed: ['running'],
  failed: [],
  cancelled: [],
};

const TABLES = { replica: REPLICA, task: TASK, job: JOB } as const;
type Kind = keyof typeof TABLES;
type StateOf<K extends Kind> = keyof (typeof TABLES)[K];

export function canTransition<K extends Kind>(kind: K, from: StateOf<K>, to: StateOf<K>): boolean {
  const table = TABLES[kind] as Readonly<Record<string, readonly string[]>>;
  return table[from as string]?.includes(to as string) ?? false;
}

/** Returns `to`, or throws `illegal-transition` when the table forbids the change. */
export function transition<K extends Kind>(kind: K, from: StateOf<K>, to: StateOf<K>): StateOf<K> {
  if (!canTransition(kind, from, to)) {
    throw new PeerGridError(
      'illegal-transition',
      `${kind}: ${String(from)} -> ${String(to)} is not allowed`,
    );
  }
  return to;
}

/** States in which a replica holds a donor's capacity. */
export function isInFlight(s: ReplicaState): boolean {
  return s === 'leased' || s === 'acknowledged';
}

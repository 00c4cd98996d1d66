/**
 * Tasks' state machine. Every transition goes through `move`, which checks
 * it against the table in state.ts, keeps the per-state counts and the set
 * of tasks the store must rewrite, and emits one event carrying the new
 * state: views fold those events and never re-derive a task's state.
 * Moves that ripple through the DAG live here too: a task becomes ready (its
 * feeds resolved), fails (and its dependents with it), or starts over when an
 * input's accepted result changed.
 */
import type { TensorMap } from '../tensor.ts';
import type { EventFields, EventLog } from './event-log.ts';
import type { LeaseLedger } from './lease-ledger.ts';
import type { TaskRt } from './runtime.ts';
import type { Policy } from './spec.ts';
import { type TaskState, transition } from './state.ts';
import type { JobEventType } from './types.ts';

export interface TaskMachine {
  /** Tasks by state. */
  readonly counts: Readonly<Record<TaskState, number>>;
  /** Failed tasks with their reasons, in the order they failed. */
  readonly failed: readonly { readonly taskId: string; readonly reason: string }[];
  move(t: TaskRt, to: TaskState, fields?: EventFields): void;
  /** Counts a task restored from a store in its state (no event). */
  restored(t: TaskRt): void;
  makeReady(t: TaskRt): void;
  /** Readies a task that is already counted `ready` (a group task placement reached); false when it failed. */
  arm(t: TaskRt): boolean;
  /** Counts tasks that are in a state without a node (untouched group tasks, retired ones). */
  countApart(state: TaskState, n: number): void;
  fail(t: TaskRt, reason: string): void;
  /** An input changed: `t` and everything downstream start over. */
  invalidate(t: TaskRt): void;
  /** Tasks changed since the last call (for the store). */
  takeDirty(): TaskRt[];
  /** Marks a task for the store without a state change (attempts). */
  touch(t: TaskRt): void;
  /** Task ids whose accepted result was withdrawn since the last call. */
  takeRemoved(): string[];
  /** A result was (re)accepted: it is no longer withdrawn. */
  kept(taskId: string): void;
}

const eventOf = (from: TaskState, to: TaskState): JobEventType => {
  if (to === 'running') return from === 'verified' ? 'task-reopened' : 'task-running';
  return `task-${to}` as JobEventType;
};

export function createTaskMachine(o: {
  readonly policy: Policy;
  readonly log: EventLog;
  readonly ledger: LeaseLedger;
  readonly resolveFeeds: (t: TaskRt) => TensorMap | string;
  /** Puts a task in the placement queue (urgent: before fresh work). */
  readonly enqueue: (t: TaskRt, urgent: boolean) => void;
}): TaskMachine {
  const { policy, log, ledger } = o;
  const counts: Record<TaskState, number> = {
    blocked: 0,
    ready: 0,
    running: 0,
    verified: 0,
    failed: 0,
  };
  const failed: { taskId: string; reason: string }[] = [];
  const dirty = new Set<TaskRt>();
  const removed = new Set<string>();

  const move = (t: TaskRt, to: TaskState, fields: EventFields = {}) => {
    const from = t.state;
    t.state = transition('task', from, to);
    counts[from]--;
    counts[to]++;
    dirty.add(t);
    log.emit(eventOf(from, to), { taskId: t.spec.id, state: to, ...fields });
  };

  const prime = (t: TaskRt): string | undefined => {
    const feeds = o.resolveFeeds(t);
    if (typeof feeds === 'string') return feeds;
    t.feeds = feeds;
    t.target = policy.replicas;
    t.solo = false;
    t.credible = false;
    t.anchorOnly = false;
    t.auditsToIssue = 0;
    t.auditToDraw = false;
    t.anchorPlanned = false;
    t.final = false;
    return undefined;
  };
  const makeReady = (t: TaskRt) => {
    const broken = prime(t);
    if (broken !== undefined) return fail(t, broken);
    move(t, 'ready');
    o.enqueue(t, false);
  };

  const fail = (t: TaskRt, reason: string) => {
    if (t.state === 'failed') return;
    ledger.cancelTask(t, 'task failed');
    t.failReason = reason;
    failed.push({ taskId: t.spec.id, reason });
    move(t, 'failed', { message: reason });
    for (const d of t.dependents) fail(d, `input task ${t.spec.id} failed`);
  };

  const invalidate = (t: TaskRt) => {
    if (t.state === 'failed' || t.state === 'blocked') return;
    ledger.cancelTask(t, 'input changed');
    if (t.accepted) removed.add(t.spec.id);
    t.results = [];
    t.used = new Set();
    t.accepted = undefined;
    move(t, 'blocked');
    for (const d of t.dependents) invalidate(d);
    if (t.deps.every((d) => d.state === 'verified')) makeReady(t);
  };

  return {
    counts,
    failed,
    move,
    restored(t) {
      counts[t.state]++;
      if (t.state === 'failed')
        failed.push({ taskId: t.spec.id, reason: t.failReason ?? 'failed' });
    },
    makeReady,
    arm(t) {
      const broken = prime(t);
      if (broken === undefined) return true;
      fail(t, broken);
      return false;
    },
    countApart(state, n) {
      counts[state] += n;
    },
    fail,
    invalidate,
    takeDirty() {
      const out = [...dirty];
      dirty.clear();
      return out;
    },
    touch: (t) => void dirty.add(t),
    takeRemoved() {
      const out = [...removed];
      removed.clear();
      return out;
    },
    kept: (id) => void removed.delete(id),
  };
}

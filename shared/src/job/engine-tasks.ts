/**
 * Task moves that ripple through leases and the DAG: cancelling leases, a
 * task becoming ready (its feeds resolved), failing (and its dependents with
 * it), and starting over when an input's accepted answer changed.
 */

import type { TensorMap } from '../tensor.ts';
import type { EngineState, LeaseRt, TaskRt } from './engine-types.ts';
import type { Policy } from './spec.ts';
import { type TaskState, transition } from './state.ts';
import type { EngineAction, JobEvent, JobEventType } from './types.ts';

export interface TaskMovesContext {
  readonly graph: { readonly resolveFeeds: (t: TaskRt) => TensorMap | string };
  readonly policy: Policy;
  readonly st: EngineState;
  readonly actions: EngineAction[];
  readonly event: (type: JobEventType, e?: Omit<JobEvent, 'jobId' | 'seq' | 'at' | 'type'>) => void;
  readonly setTask: (t: TaskRt, to: TaskState) => void;
  readonly enqueue: (t: TaskRt, isUrgent: boolean) => void;
  /** Task ids whose accepted result was dropped since the last store delta. */
  readonly removed: Set<string>;
}

export function createTaskMoves(c: TaskMovesContext) {
  const { graph, policy, st, actions, event, setTask, enqueue, removed } = c;

  const cancelLease = (lease: LeaseRt, reason: string) => {
    const t = lease.task;
    st.leases.delete(lease.id);
    t.leases.delete(lease);
    const d = st.donors.get(lease.donor);
    if (d) d.inFlight--;
    if (!lease.spot) t.inFlight--;
    t.used.delete(lease.donor);
    lease.state = transition('replica', lease.state, 'cancelled');
    event('lease-cancelled', {
      taskId: t.spec.id,
      leaseId: lease.id,
      donor: lease.donor,
      message: reason,
    });
    actions.push({ type: 'cancel', leaseId: lease.id, donor: lease.donor, reason });
  };
  const cancelLeases = (t: TaskRt, reason: string, spotsToo: boolean) => {
    for (const lease of [...t.leases]) if (spotsToo || !lease.spot) cancelLease(lease, reason);
  };

  const makeReady = (t: TaskRt) => {
    const feeds = graph.resolveFeeds(t);
    if (typeof feeds === 'string') return failTask(t, feeds);
    t.feeds = feeds;
    t.target = policy.replicas;
    t.solo = false;
    t.preferTrusted = false;
    setTask(t, 'ready');
    event('task-ready', { taskId: t.spec.id });
    enqueue(t, false);
  };

  const failTask = (t: TaskRt, reason: string) => {
    if (t.state === 'failed') return;
    cancelLeases(t, 'task failed', true);
    setTask(t, 'failed');
    t.failReason = reason;
    st.failed.push({ taskId: t.spec.id, reason });
    event('task-failed', { taskId: t.spec.id, message: reason });
    for (const d of t.dependents) failTask(d, `input task ${t.spec.id} failed`);
  };

  /** An input changed: the task and everything downstream start over. */
  const invalidate = (t: TaskRt) => {
    if (t.state === 'failed' || t.state === 'blocked') return;
    cancelLeases(t, 'input changed', true);
    if (t.accepted) removed.add(t.spec.id);
    t.results = [];
    t.used = new Set();
    t.accepted = undefined;
    setTask(t, 'blocked');
    for (const d of t.dependents) invalidate(d);
    if (t.deps.every((d) => d.state === 'verified')) makeReady(t);
  };

  return { cancelLease, cancelLeases, makeReady, failTask, invalidate };
}

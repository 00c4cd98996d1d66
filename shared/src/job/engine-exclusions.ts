/**
 * Exclusions, as the job engine sees them: which tasks each donor voted on,
 * the donors this engine excluded (and over which task), and what an
 * exclusion undoes: the donor's leases are cancelled, its running tasks
 * re-evaluated without its votes, and results it backed without a trusted
 * co-backer re-verified. A donor excluded for contradicting an answer that
 * later proved wrong is reinstated.
 */
import type { PeerId } from '../contracts.ts';
import type { TensorMap } from '../tensor.ts';
import { outputsMatch } from './compare.ts';
import type { EngineState, LeaseRt, TaskRt } from './engine-types.ts';
import type { ReputationBook } from './reputation.ts';
import type { Policy } from './spec.ts';
import type { JobEvent, JobEventType } from './types.ts';

export interface ExclusionsContext {
  readonly policy: Policy;
  readonly book: ReputationBook;
  readonly st: EngineState;
  readonly tasks: readonly TaskRt[];
  readonly event: (type: JobEventType, e?: Omit<JobEvent, 'jobId' | 'seq' | 'at' | 'type'>) => void;
  readonly need: (t: TaskRt) => number;
  readonly enqueue: (t: TaskRt, isUrgent: boolean) => void;
  readonly cancelLease: (lease: LeaseRt, reason: string) => void;
  readonly evaluate: (t: TaskRt) => void;
  readonly reopen: (t: TaskRt, reason: string) => void;
}

export function createExclusions(c: ExclusionsContext) {
  const { policy, book, st, tasks, event, need, enqueue, cancelLease, evaluate, reopen } = c;
  const votesBy = new Map<PeerId, Set<TaskRt>>();
  const pendingExclusions: PeerId[] = [];
  /** Donors this engine excluded, by the task whose answer they contradicted. */
  const excludedOver = new Map<PeerId, TaskRt>();

  const excludeOver = (peer: PeerId, t: TaskRt, reason: string) => {
    if (!book.isExcluded(peer)) excludedOver.set(peer, t);
    book.exclude(peer, reason);
  };

  /** `t`'s accepted answer changed to `outputs`: reinstates its voters excluded over the old one who gave it. */
  const reinstate = (t: TaskRt, outputs: TensorMap) => {
    for (const r of t.results) {
      if (excludedOver.get(r.donor) !== t || !outputsMatch(r.outputs, outputs, policy.compare))
        continue;
      excludedOver.delete(r.donor);
      book.reinstate(r.donor);
      event('donor-reinstated', { taskId: t.spec.id, donor: r.donor });
    }
  };

  const drainExclusions = () => {
    for (let p = pendingExclusions.shift(); p !== undefined; p = pendingExclusions.shift()) {
      event('donor-excluded', { donor: p, message: book.get(p).excludedReason ?? '' });
      for (const lease of [...st.leases.values()]) {
        if (lease.donor === p) cancelLease(lease, 'donor excluded');
      }
      for (const t of votesBy.get(p) ?? []) {
        if (t.state === 'running') evaluate(t);
        else if (t.state === 'verified' && t.accepted?.backers.includes(p)) {
          const vouched = t.accepted.backers.some(
            (b) => b !== p && !book.isExcluded(b) && book.isTrusted(b),
          );
          if (!vouched) reopen(t, `backer ${p} was excluded`);
        }
      }
      // Cancelling may have freed tasks of other donors.
      for (const t of tasks) if (t.state === 'running' && need(t) > 0) enqueue(t, true);
    }
  };
  const unsubscribe = book.onExcluded((p) => pendingExclusions.push(p));

  return {
    excludeOver,
    reinstate,
    drainExclusions,
    hasPendingExclusions: () => pendingExclusions.length > 0,
    indexVote(t: TaskRt, donor: PeerId) {
      const s = votesBy.get(donor) ?? new Set<TaskRt>();
      votesBy.set(donor, s);
      s.add(t);
    },
    /** Stops listening for exclusions. */
    close: () => unsubscribe(),
  };
}

/**
 * Exclusions, as one job sees them: which tasks each donor returned results
 * for, the donors this job excluded (and over which task), and what an
 * exclusion undoes: the donor's leases are cancelled, its running tasks
 * weighed again without its results, and results it backed without a
 * trusted co-backer re-verified. A donor excluded for contradicting an answer
 * that later proved wrong is reinstated.
 */
import type { PeerId } from '../contracts.ts';
import type { TensorMap } from '../tensor.ts';
import { outputsMatch } from './compare.ts';
import type { EventLog } from './event-log.ts';
import type { LeaseLedger } from './lease-ledger.ts';
import type { ReputationBook } from './reputation.ts';
import type { TaskRt } from './runtime.ts';
import type { Policy } from './spec.ts';

export interface Exclusions {
  /** Excludes `peer` for contradicting `t`'s answer. */
  exclude(peer: PeerId, t: TaskRt, reason: string): void;
  /** `t`'s accepted answer changed to `outputs`: reinstates its donors excluded over the old one who gave it. */
  reinstate(t: TaskRt, outputs: TensorMap): void;
  /** Carries out exclusions announced since the last call (this job's and others'). */
  drain(): void;
  pending(): boolean;
  /** `donor` returned a result for `t`. */
  indexResult(t: TaskRt, donor: PeerId): void;
  /** Stops listening for exclusions. */
  close(): void;
}

export function createExclusions(o: {
  readonly policy: Policy;
  readonly book: ReputationBook;
  readonly log: EventLog;
  readonly ledger: LeaseLedger;
  readonly tasks: readonly TaskRt[];
  readonly need: (t: TaskRt) => number;
  readonly enqueue: (t: TaskRt, urgent: boolean) => void;
  readonly evaluate: (t: TaskRt) => void;
  readonly reopen: (t: TaskRt, reason: string) => void;
}): Exclusions {
  const { policy, book, log } = o;
  const resultsBy = new Map<PeerId, Set<TaskRt>>();
  const pendingExclusions: PeerId[] = [];
  /** Donors this job excluded, by the task whose answer they contradicted. */
  const excludedOver = new Map<PeerId, TaskRt>();
  const unsubscribe = book.onExcluded((p) => pendingExclusions.push(p));

  return {
    exclude(peer, t, reason) {
      if (!book.isExcluded(peer)) excludedOver.set(peer, t);
      book.exclude(peer, reason);
    },
    reinstate(t, outputs) {
      for (const r of t.results) {
        if (excludedOver.get(r.donor) !== t || !outputsMatch(r.outputs, outputs, policy.compare))
          continue;
        excludedOver.delete(r.donor);
        book.reinstate(r.donor);
        log.emit('donor-reinstated', { taskId: t.spec.id, donor: r.donor });
      }
    },
    drain() {
      for (let p = pendingExclusions.shift(); p !== undefined; p = pendingExclusions.shift()) {
        log.emit('donor-excluded', { donor: p, message: book.get(p).excludedReason ?? '' });
        o.ledger.cancelDonor(p, 'donor excluded');
        for (const t of resultsBy.get(p) ?? []) {
          if (t.state === 'running') o.evaluate(t);
          else if (t.state === 'verified' && t.accepted?.backers.includes(p)) {
            const vouched = t.accepted.backers.some(
              (b) => b !== p && !book.isExcluded(b) && book.isTrusted(b),
            );
            if (!vouched) o.reopen(t, `backer ${p} was excluded`);
          }
        }
        // Cancelling may have freed tasks of other donors.
        for (const t of o.tasks) if (t.state === 'running' && o.need(t) > 0) o.enqueue(t, true);
      }
    },
    pending: () => pendingExclusions.length > 0,
    indexResult(t, donor) {
      const s = resultsBy.get(donor) ?? new Set<TaskRt>();
      resultsBy.set(donor, s);
      s.add(t);
    },
    close: () => unsubscribe(),
  };
}

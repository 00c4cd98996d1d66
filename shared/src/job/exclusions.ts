/**
 * Backtracking, as one job sees it. The job indexes which tasks each donor
 * returned results for. When a donor is excluded (here or by another job on
 * the same reputation book), its leases are cancelled, its running tasks
 * weighed again without its results, and every result it backed — alone or
 * in a quorum — is weighed again without it: whatever no longer meets the
 * target gets more replicas before the job completes. When a donor loses a
 * vote, what it backed is weighed again with its new (probation) odds. A
 * donor excluded over an answer that later proved wrong is reinstated.
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
  /** Excludes `peer` over `t`'s result. */
  exclude(peer: PeerId, t: TaskRt, reason: string): void;
  /** `peer` lost a vote: what it backed is weighed again (at the next drain). */
  lostVote(peer: PeerId): void;
  /** `t`'s accepted answer changed to `outputs`: reinstates its donors excluded over the old one who gave it. */
  reinstate(t: TaskRt, outputs: TensorMap): void;
  /** Carries out exclusions and lost votes announced since the last call. */
  drain(): void;
  pending(): boolean;
  /** `donor` returned a result for `t`. */
  indexResult(t: TaskRt, donor: PeerId): void;
  /** `t` leaves memory (retired): of its results, only its backers' claim is kept, by position. */
  retired(t: TaskRt): void;
  /** A task restored retired (verified, never resident): its backers' claim, by position. */
  retiredApart(index: number, backers: readonly PeerId[]): void;
  /** `t` must stay resident: a donor excluded over it may yet be reinstated by it. */
  pins(t: TaskRt): boolean;
  /** Donors excluded while this job ran, with the reason. */
  readonly excluded: readonly { readonly donor: PeerId; readonly reason: string }[];
  /** Stops listening for exclusions. */
  close(): void;
}

export function createExclusions(o: {
  readonly policy: Policy;
  readonly book: ReputationBook;
  readonly log: EventLog;
  readonly ledger: LeaseLedger;
  readonly need: (t: TaskRt) => number;
  readonly enqueue: (t: TaskRt, urgent: boolean) => void;
  readonly evaluate: (t: TaskRt) => void;
  /** Weighs a verified task again with current records (re-opens it when short of the target). */
  readonly recheck: (t: TaskRt, reason: string) => void;
  /** Resident tasks (the ones a donor may hold leases or results of). */
  readonly resident: () => Iterable<TaskRt>;
  /** A retired task at `index` must be weighed again: load it back, then `recheck` it. */
  readonly recall: (index: number, reason: string) => void;
}): Exclusions {
  const { policy, book, log } = o;
  const resultsBy = new Map<PeerId, Set<TaskRt>>();
  /** Positions of retired tasks each donor backed (duplicates possible: recalling dedups). */
  const retiredBy = new Map<PeerId, number[]>();
  const claim = (index: number, backers: readonly PeerId[]) => {
    for (const d of backers) {
      const list = retiredBy.get(d) ?? [];
      retiredBy.set(d, list);
      list.push(index);
    }
  };
  const recallBacked = (p: PeerId, reason: string) => {
    const backed = retiredBy.get(p);
    if (!backed) return;
    retiredBy.delete(p);
    for (const i of backed) o.recall(i, reason);
  };
  const pendingExclusions: PeerId[] = [];
  const pendingLosses: PeerId[] = [];
  /** Reinstated donors: their results count again, so the running tasks that hold them are weighed again. */
  const pendingReinstated: PeerId[] = [];
  const excluded: { donor: PeerId; reason: string }[] = [];
  /** Donors this job excluded, by the task whose result they contradicted. */
  const excludedOver = new Map<PeerId, TaskRt>();
  const unsubscribe = book.onExcluded((p) => pendingExclusions.push(p));

  const backed = (t: TaskRt, p: PeerId) =>
    t.state === 'verified' && t.accepted?.backers.includes(p);

  const carryOut = (p: PeerId) => {
    const reason = book.get(p).excludedReason ?? '';
    excluded.push({ donor: p, reason });
    log.emit('donor-excluded', { donor: p, message: reason });
    o.ledger.cancelDonor(p, 'donor excluded');
    for (const t of resultsBy.get(p) ?? []) {
      if (t.state === 'running') {
        // Its results no longer count towards what the task waits for: weigh what is left.
        const valid = t.results.filter((r) => !book.isExcluded(r.donor)).length;
        t.target = Math.min(t.target, Math.max(valid + t.inFlight, policy.quorum));
        o.evaluate(t);
      } else if (backed(t, p)) o.recheck(t, `backer ${p} was excluded`);
    }
    recallBacked(p, `backer ${p} was excluded`);
    // Cancelling may have freed tasks of other donors.
    for (const t of o.resident()) if (t.state === 'running' && o.need(t) > 0) o.enqueue(t, true);
  };

  return {
    exclude(peer, t, reason) {
      if (!book.isExcluded(peer)) excludedOver.set(peer, t);
      book.exclude(peer, reason);
    },
    lostVote: (peer) => void pendingLosses.push(peer),
    reinstate(t, outputs) {
      for (const r of t.results) {
        if (excludedOver.get(r.donor) !== t || !outputsMatch(r.outputs, outputs, policy.compare))
          continue;
        excludedOver.delete(r.donor);
        book.reinstate(r.donor);
        pendingReinstated.push(r.donor);
        log.emit('donor-reinstated', { taskId: t.spec.id, donor: r.donor });
      }
    },
    drain() {
      for (;;) {
        const p = pendingExclusions.shift();
        if (p !== undefined) {
          carryOut(p);
          continue;
        }
        const back = pendingReinstated.shift();
        if (back !== undefined) {
          for (const t of resultsBy.get(back) ?? []) if (t.state === 'running') o.evaluate(t);
          continue;
        }
        const l = pendingLosses.shift();
        if (l === undefined) return;
        if (book.isExcluded(l)) continue;
        for (const t of resultsBy.get(l) ?? [])
          if (backed(t, l)) o.recheck(t, `backer ${l} lost a vote`);
        recallBacked(l, `backer ${l} lost a vote`);
      }
    },
    pending: () =>
      pendingExclusions.length > 0 || pendingLosses.length > 0 || pendingReinstated.length > 0,
    indexResult(t, donor) {
      const s = resultsBy.get(donor) ?? new Set<TaskRt>();
      resultsBy.set(donor, s);
      s.add(t);
    },
    retired(t) {
      for (const r of t.results) resultsBy.get(r.donor)?.delete(t);
      claim(t.index, t.accepted?.backers ?? []);
    },
    retiredApart: (index, backers) => claim(index, backers),
    pins(t) {
      for (const over of excludedOver.values()) if (over === t) return true;
      return false;
    },
    excluded,
    close: () => unsubscribe(),
  };
}

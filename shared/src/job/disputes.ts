/**
 * Disputes verification could not settle. A failed vote with no trusted donor
 * is parked: it may only reflect an unlucky draw of liars (warm-up), so it
 * waits for a trusted donor to break the tie, and fails after `PARK_LIMIT`
 * task deadlines without one. A dispute that no donor on offer can add to
 * (small grids) is settled by a strict majority instead.
 */
import type { PeerId } from '../contracts.ts';
import type { Now } from '../platform.ts';
import type { ReputationBook } from './reputation.ts';
import type { DonorRt, ResultRt, TaskRt } from './runtime.ts';
import type { Policy } from './spec.ts';
import { groupVotes } from './verify.ts';

/** A parked dispute fails after this many task deadlines without a trusted donor. */
const PARK_LIMIT = 3;

export interface Disputes {
  /** Parks a dispute that failed without a trusted donor (once: the first reason and time stay). */
  park(t: TaskRt, reason: string): void;
  /** Parked disputes: escalate to one trusted donor, or fail after `PARK_LIMIT` deadlines. */
  tick(): void;
  /**
   * A dispute that no donor on offer can add to (small grids): a group that
   * reaches quorum and holds a strict majority of the distinct donors'
   * results is accepted (not firm). True when the task was settled.
   */
  settleStarved(t: TaskRt): boolean;
}

export function createDisputes(o: {
  readonly now: Now;
  readonly policy: Policy;
  readonly book: ReputationBook;
  readonly donors: ReadonlyMap<PeerId, DonorRt>;
  readonly validResults: (t: TaskRt) => ResultRt[];
  readonly enqueue: (t: TaskRt, urgent: boolean) => void;
  readonly fail: (t: TaskRt, reason: string) => void;
  readonly accept: (
    t: TaskRt,
    winners: ResultRt[],
    losers: ResultRt[],
    firm: boolean,
    note?: string,
  ) => void;
}): Disputes {
  const { policy, book, donors } = o;
  const parked = new Map<TaskRt, { since: number; reason: string }>();

  /** Could another donor on offer add a result for `t` (capacity aside)? */
  const canGrow = (t: TaskRt) => {
    const strict = policy.compare.kind === 'exact' && t.backend !== undefined;
    for (const d of donors.values()) {
      if (t.used.has(d.id) || book.isExcluded(d.id)) continue;
      if (!strict || d.backend === t.backend) return true;
    }
    return false;
  };

  return {
    park(t, reason) {
      if (!parked.has(t)) parked.set(t, { since: o.now(), reason });
    },
    tick() {
      for (const [t, p] of parked) {
        if (t.state !== 'running') {
          parked.delete(t);
          continue;
        }
        const trusted = [...donors.values()].some(
          (d) =>
            !t.used.has(d.id) && book.isTrusted(d.id) && (!t.backend || d.backend === t.backend),
        );
        if (trusted) {
          parked.delete(t);
          t.escalated = true;
          t.preferTrusted = true;
          t.target = o.validResults(t).length + 1;
          o.enqueue(t, true);
        } else if (o.now() - p.since > PARK_LIMIT * policy.taskDeadlineMs) {
          parked.delete(t);
          o.fail(t, `${p.reason}; no trusted donor to break the tie`);
        }
      }
    },
    settleStarved(t) {
      if (t.state !== 'running' || t.inFlight > 0 || t.escalated || canGrow(t)) return false;
      const results = o.validResults(t);
      const groups = groupVotes(results, policy.compare).sort((a, b) => b.length - a.length);
      const top = groups[0];
      if (!top || top.length < policy.quorum || top.length * 2 <= results.length) return false;
      o.accept(
        t,
        top.map((i) => results[i]!),
        groups.slice(1).flatMap((g) => g.map((i) => results[i]!)),
        false,
        `majority of ${results.length} distinct donors, no other donor on offer`,
      );
      return true;
    },
  };
}

/**
 * Disputes verification could not settle. A failed vote with no trusted voter
 * is parked: it may only reflect an unlucky draw of liars (warm-up), so it
 * waits for a trusted donor to break the tie, and fails after `PARK_LIMIT`
 * task deadlines without one. A dispute that no donor on offer can add to
 * (small grids) is settled by a strict majority instead.
 */
import type { Now } from '../platform.ts';
import type { EngineState, TaskRt, VoteRt } from './engine-types.ts';
import type { ReputationBook } from './reputation.ts';
import type { Policy } from './spec.ts';
import { groupVotes } from './verify.ts';

export interface ParkedContext {
  readonly o: { readonly now: Now };
  readonly policy: Policy;
  readonly book: ReputationBook;
  readonly st: EngineState;
  /** Votes of donors not excluded. */
  readonly validVotes: (t: TaskRt) => VoteRt[];
  readonly enqueue: (t: TaskRt, isUrgent: boolean) => void;
  readonly failTask: (t: TaskRt, reason: string) => void;
  readonly accept: (
    t: TaskRt,
    winners: VoteRt[],
    losers: VoteRt[],
    firm: boolean,
    note?: string,
  ) => void;
}

/** A parked dispute fails after this many task deadlines without a trusted donor. */
const PARK_LIMIT = 3;

export function createParked(c: ParkedContext) {
  const { o, policy, book, st, validVotes, enqueue, failTask, accept } = c;
  const parked = new Map<TaskRt, { since: number; reason: string }>();

  /** Parks a dispute that failed without a trusted voter (once: the first reason and time stay). */
  const park = (t: TaskRt, reason: string) => {
    if (!parked.has(t)) parked.set(t, { since: o.now(), reason });
  };

  /** Parked disputes: escalate to one trusted donor, or fail after `PARK_LIMIT` deadlines. */
  const tickParked = () => {
    for (const [t, p] of parked) {
      if (t.state !== 'running') {
        parked.delete(t);
        continue;
      }
      const trusted = [...st.donors.values()].some(
        (d) => !t.used.has(d.id) && book.isTrusted(d.id) && (!t.backend || d.backend === t.backend),
      );
      if (trusted) {
        parked.delete(t);
        t.escalated = true;
        t.preferTrusted = true;
        t.target = validVotes(t).length + 1;
        enqueue(t, true);
      } else if (o.now() - p.since > PARK_LIMIT * policy.taskDeadlineMs) {
        parked.delete(t);
        failTask(t, `${p.reason}; no trusted donor to break the tie`);
      }
    }
  };

  /** Could another donor on offer add a replica of `t` (capacity aside)? */
  const canGrow = (t: TaskRt) => {
    const strict = policy.compare.kind === 'exact' && t.backend !== undefined;
    for (const d of st.donors.values()) {
      if (t.used.has(d.id) || book.isExcluded(d.id)) continue;
      if (!strict || d.backend === t.backend) return true;
    }
    return false;
  };

  /**
   * A dispute that no donor on offer can add to (small grids): a group that
   * reaches quorum and holds a strict majority of the distinct donors' votes
   * is accepted (not firm); the losers' lost votes count towards exclusion.
   * True when the task was settled.
   */
  const settleStarved = (t: TaskRt): boolean => {
    if (t.state !== 'running' || t.inFlight > 0 || t.escalated || canGrow(t)) return false;
    const votes = validVotes(t);
    const groups = groupVotes(votes, policy.compare).sort((a, b) => b.length - a.length);
    const top = groups[0];
    if (!top || top.length < policy.quorum || top.length * 2 <= votes.length) return false;
    st.settled++;
    accept(
      t,
      top.map((i) => votes[i]!),
      groups.slice(1).flatMap((g) => g.map((i) => votes[i]!)),
      false,
      `majority of ${votes.length} distinct donors, no other donor on offer`,
    );
    return true;
  };

  return { park, tickParked, settleStarved };
}

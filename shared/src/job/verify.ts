/**
 * The verifier's decision for one task, from the votes (results of distinct,
 * non-excluded donors) it holds. Pure: reputation arrives as a predicate.
 *
 * Rules (credibility-based fault tolerance after Sarmenta, with BOINC-style
 * adaptive replication):
 * - a group of matching results that holds a trusted donor and at least one
 *   more member is *firm*; it wins any dispute, and the donors that contradict
 *   it are caught lying;
 * - without disagreement, `quorum` matching results accept (weakly);
 * - a task planned *solo* (its donor was trusted) accepts a trusted donor's
 *   single result;
 * - a dispute without a firm group needs a group of quorum + 1 that outnumbers
 *   every other group by two; otherwise more replicas, up to `maxReplicas`,
 *   after which the task fails with the evidence.
 *
 * The engine adds two rules around `decide` (engine-core.ts): a dispute that
 * no other donor on offer can add a replica to (small grids) is settled by a
 * group that reaches quorum with a strict majority of the distinct donors'
 * votes (not firm); and a donor that loses `excludeAfterLostInRow` votes in a
 * row with no agreement in between (reputation.ts, default 3) is excluded,
 * which re-verifies what it vouched for without a trusted co-backer.
 */
import type { PeerId } from '../contracts.ts';
import type { TensorMap } from '../tensor.ts';
import { outputsMatch } from './compare.ts';
import type { CompareRule } from './spec.ts';

export interface Vote {
  readonly donor: PeerId;
  readonly outputs: TensorMap;
}

export type Decision =
  | {
      readonly kind: 'accept';
      /** Indices of the votes in the accepted group. */
      readonly winners: readonly number[];
      readonly losers: readonly number[];
      readonly firm: boolean;
    }
  /** Collect `target` votes in all (more than held now). */
  | { readonly kind: 'more'; readonly target: number }
  | { readonly kind: 'fail'; readonly reason: string };

export interface DecideOptions {
  readonly rule: CompareRule;
  readonly quorum: number;
  readonly maxReplicas: number;
  readonly trusted: (peer: PeerId) => boolean;
  /** The task was planned for one trusted donor. */
  readonly solo: boolean;
}

/** Partitions votes into groups of matching outputs (indices, first vote first). */
export function groupVotes(votes: readonly Vote[], rule: CompareRule): number[][] {
  const groups: number[][] = [];
  for (let i = 0; i < votes.length; i++) {
    const g = groups.find((gr) => outputsMatch(votes[gr[0]!]!.outputs, votes[i]!.outputs, rule));
    if (g) g.push(i);
    else groups.push([i]);
  }
  return groups;
}

export function decide(votes: readonly Vote[], o: DecideOptions): Decision {
  if (votes.length === 0) return { kind: 'more', target: o.solo ? 1 : o.quorum };
  const groups = groupVotes(votes, o.rule).sort((a, b) => b.length - a.length);
  const hasTrusted = (g: readonly number[]) => g.some((i) => o.trusted(votes[i]!.donor));
  const accept = (g: number[], firm: boolean): Decision => ({
    kind: 'accept',
    winners: g,
    losers: groups.filter((x) => x !== g).flat(),
    firm,
  });
  const firm = groups.find((g) => g.length >= 2 && hasTrusted(g));
  const top = groups[0]!;
  if (groups.length === 1) {
    if (firm) return accept(top, true);
    if (top.length >= o.quorum) return accept(top, false);
    if (o.solo && top.length === 1 && hasTrusted(top)) return accept(top, false);
  } else {
    if (firm) return accept(firm, true);
    const second = groups[1]!.length;
    if (top.length >= o.quorum + 1 && top.length >= second + 2) return accept(top, false);
  }
  if (votes.length >= o.maxReplicas) {
    const shape = groups.map((g) => `[${g.map((i) => votes[i]!.donor).join(',')}]`).join(' vs ');
    return { kind: 'fail', reason: `no agreement after ${votes.length} results: ${shape}` };
  }
  const need = groups.length === 1 ? Math.max(o.quorum, votes.length + 1) : votes.length + 1;
  return { kind: 'more', target: Math.min(need, o.maxReplicas) };
}

/**
 * The verifier's decision for one task, from the results (of distinct,
 * non-excluded donors) it holds. Pure: each result arrives with its donor's
 * error odds (credibility.ts; 0 for an anchor).
 *
 * - Until every planned lease has reported (its replicas and any hidden
 *   audit), wait: an audit that is not waited for checks nothing.
 * - Results are grouped by the job's compare rule; each group gets a bound on
 *   the chance that it is wrong (`groupBounds`). The group with the lowest
 *   bound is accepted, and is final, once that bound is under `targetError`
 *   and it holds `quorum` results (one is enough for a task planned solo or a
 *   group an anchor backs).
 * - Otherwise one more result is wanted, up to `maxReplicas`; past that the
 *   task is `stuck` and the engine settles it (an anchor, a provisional
 *   acceptance when nobody disagrees, or a failure).
 */
import type { PeerId } from '../contracts.ts';
import type { TensorMap } from '../tensor.ts';
import { outputsMatch } from './compare.ts';
import { groupBounds } from './credibility.ts';
import type { CompareRule } from './spec.ts';

export interface Vote {
  readonly donor: PeerId;
  readonly outputs: TensorMap;
  /** The donor's error odds (0: an anchor). */
  readonly odds: number;
}

/** The best group: indices of its results and of the others, and its bound. */
export interface Weighed {
  readonly winners: readonly number[];
  readonly losers: readonly number[];
  readonly bound: number;
  /** It reaches the quorum (or needs none: solo, anchor). */
  readonly quorate: boolean;
  /** More than one group. */
  readonly disputed: boolean;
}

export type Decision =
  | ({ readonly kind: 'accept' } & Weighed)
  /** Collect `target` results in all (more than held now). */
  | {
      readonly kind: 'more';
      readonly target: number;
      /** The results held disagree. */
      readonly disputed: boolean;
    }
  /** `maxReplicas` results and no final group. */
  | ({ readonly kind: 'stuck'; readonly reason: string } & Weighed);

export interface DecideOptions {
  readonly rule: CompareRule;
  readonly quorum: number;
  readonly maxReplicas: number;
  readonly targetError: number;
  /** Assumed saboteur share: weighs disputes (see `disputedOdds`). */
  readonly saboteurShare: number;
  /** The task was planned for one donor. */
  readonly solo: boolean;
  /** Results planned for this round (replicas and audits). */
  readonly planned: number;
}

/** Partitions votes into groups of matching outputs (indices, first vote first). */
export function groupVotes(
  votes: readonly { readonly outputs: TensorMap }[],
  rule: CompareRule,
): number[][] {
  const groups: number[][] = [];
  for (let i = 0; i < votes.length; i++) {
    const g = groups.find((gr) => outputsMatch(votes[gr[0]!]!.outputs, votes[i]!.outputs, rule));
    if (g) g.push(i);
    else groups.push([i]);
  }
  return groups;
}

/** The group with the lowest bound (the largest first on ties). */
export function weigh(
  votes: readonly Vote[],
  o: Pick<DecideOptions, 'rule' | 'quorum' | 'solo' | 'saboteurShare'>,
): Weighed {
  const groups = groupVotes(votes, o.rule);
  const bounds = groupBounds(
    groups.map((g) => g.map((i) => votes[i]!.odds)),
    o.saboteurShare,
  );
  let best = 0;
  for (let i = 1; i < groups.length; i++) {
    const better =
      bounds[i]! < bounds[best]! ||
      (bounds[i] === bounds[best] && groups[i]!.length > groups[best]!.length);
    if (better) best = i;
  }
  const winners = groups[best] ?? [];
  const anchored = winners.some((i) => votes[i]!.odds === 0);
  return {
    winners,
    losers: groups.filter((_, i) => i !== best).flat(),
    bound: bounds[best] ?? 1,
    quorate: winners.length >= o.quorum || anchored || (o.solo && groups.length === 1),
    disputed: groups.length > 1,
  };
}

export function decide(votes: readonly Vote[], o: DecideOptions): Decision {
  if (votes.length < o.planned) {
    const disputed = votes.length > 1 && groupVotes(votes, o.rule).length > 1;
    return { kind: 'more', target: o.planned, disputed };
  }
  const w = weigh(votes, o);
  if (w.quorate && w.bound <= o.targetError) return { kind: 'accept', ...w };
  if (votes.length < o.maxReplicas) {
    return { kind: 'more', target: votes.length + 1, disputed: w.disputed };
  }
  const shape = groupVotes(votes, o.rule)
    .map((g) => `[${g.map((i) => votes[i]!.donor).join(',')}]`)
    .join(' vs ');
  return {
    kind: 'stuck',
    reason: `no result under the target error after ${votes.length} results: ${shape}`,
    ...w,
  };
}

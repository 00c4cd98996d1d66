/**
 * Credibility, after Sarmenta ("Sabotage-tolerance mechanisms for volunteer
 * computing systems", 2002): the chance that a result is wrong, bounded
 * from its backers' audited records, under the assumption that at most a
 * share `f` of donors are saboteurs.
 *
 * A donor's record is `audited`: its results confirmed by independent
 * backers since it last lost a vote. A saboteur that lies on a share s of
 * its results survives k confirmations with chance (1 − s)^k at most, so
 * the chance that its next result is a lie is at most max_s s(1 − s)^k ≈
 * 1/(k·e). Weighed by the prior odds of meeting a saboteur, f/(1 − f), a
 * donor's *error odds* are
 *
 *     o(k) = f/(1 − f)                for k = 0 (on probation),
 *     o(k) = f / ((1 − f) · k · e)    for k ≥ 1,
 *
 * and 0 for an anchor. A result is backed by a group of matching results;
 * other groups contradict it. The group G is right only if everyone outside
 * it is wrong, so its weight is the product of the odds of the others; "none
 * is right" weighs the product of everyone's odds. The bound for G is
 * 1 − w(G) / (Σ w + w(none)). A single group of n backers gets
 * Π o / (1 + Π o).
 *
 * When results disagree someone lied, and matching results can no longer
 * be taken as independent: colluders agree on their lie. In a dispute a
 * group therefore counts as its least credible backer, times f for each
 * further backer (the chance that it, too, is in the liar's cartel):
 * `disputedOdds`. Two credible colluders cannot outvote one credible
 * dissenter; it takes several more agreeing donors, or an anchor.
 *
 * The bound is as good as its assumptions: a donor that behaves until it is
 * trusted and then lies once is not described by any fixed s. Only audits —
 * someone recomputing that very task — catch it, which is why the audit rate
 * has a floor and the chance of running alone a cap.
 */
import type { Policy } from './spec.ts';

/** Error odds of a donor with `audited` confirmations, under `f` (an anchor has 0). */
export function donorOdds(audited: number, f: number): number {
  const prior = f / (1 - f);
  return audited <= 0 ? prior : prior / Math.max(1, audited * Math.E);
}

/**
 * Confirmations after which a donor's own odds are under `targetError`: the
 * audited record it needs before it may run a task alone.
 */
export function soloAfter(policy: Pick<Policy, 'saboteurShare' | 'targetError'>): number {
  const prior = policy.saboteurShare / (1 - policy.saboteurShare);
  return Math.ceil(prior / (Math.E * policy.targetError));
}

/**
 * The chance that a fresh task placed on a donor runs alone: none before
 * `soloAfter`, then 1 − soloAfter/audited (BOINC's 1 − 1/CV, with CV the
 * record in units of the threshold), capped at `maxSoloChance`.
 */
export function soloChance(
  audited: number,
  policy: Pick<Policy, 'saboteurShare' | 'targetError' | 'maxSoloChance' | 'adaptive'>,
): number {
  const after = soloAfter(policy);
  if (!policy.adaptive || audited < after) return 0;
  return Math.min(policy.maxSoloChance, 1 - after / audited);
}

/** A group's error odds in a dispute: its least credible backer's odds, times f per further backer. */
export function disputedOdds(odds: readonly number[], f: number): number {
  if (odds.length === 0) return 1;
  return Math.min(...odds) * f ** (odds.length - 1);
}

/**
 * Bounds for groups of matching results: `groups[i]` holds the error odds of
 * group i's backers. Returns each group's bound on being wrong, in order.
 * With `f`, a dispute weighs each group by `disputedOdds`.
 * When every weight is 0 (anchors contradicting each other) every bound is 1.
 */
export function groupBounds(groups: readonly (readonly number[])[], f?: number): number[] {
  const product = (xs: readonly number[]) => xs.reduce((p, x) => p * x, 1);
  // One group: its backers as independent (Sarmenta). A dispute: each group as one (`disputedOdds`).
  const odds =
    groups.length > 1 && f !== undefined ? groups.map((g) => [disputedOdds(g, f)]) : groups;
  const all = product(odds.flat());
  const weights = odds.map((_, i) => product(odds.flatMap((g, j) => (j === i ? [] : g))));
  const total = weights.reduce((s, w) => s + w, 0) + all;
  if (!(total > 0)) return groups.map(() => 1);
  // (everything but w) / total, summed directly: 1 − w/total loses the small bounds.
  return weights.map(
    (_, i) => (weights.reduce((s, w, j) => (j === i ? s : s + w), 0) + all) / total,
  );
}

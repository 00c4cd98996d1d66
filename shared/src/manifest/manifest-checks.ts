/**
 * A manifest task's file and constant feeds against its model, with the
 * shared feed check: inputs fed by other tasks' outputs are checked as graph
 * edges instead (dtype and declared shape), so they are left out here.
 */
import { findFeedProblems } from '../feeds/check-feeds.ts';
import type { DeclaredInput } from '../feeds/declared-input.ts';
import type { TensorMap } from '../tensor.ts';

/** Every problem of `feeds` against `inputs` but those named in `fromOutputs`, in words. */
export function checkFeedsAgainst(
  inputs: readonly DeclaredInput[],
  fromOutputs: ReadonlySet<string>,
  feeds: TensorMap,
): string[] {
  const rest = inputs.filter((i) => !fromOutputs.has(i.name));
  return findFeedProblems(rest, feeds).map((p) => p.message);
}

/**
 * The page's side of the shared feed check: model inputs as onnxruntime-web
 * describes them, converted to the shared declared form, and the check's
 * problems in words. The Submit view and the donor workers both use it.
 */
import {
  type DeclaredInput,
  declaredDim,
  feedProblemsText,
  findFeedProblems,
  type TensorMap,
} from '@peergrid/shared';

/** A model input as ORT describes it: a dtype name and a shape with symbolic dims as strings. */
export interface InputSpec {
  readonly name: string;
  readonly type: string;
  readonly shape: readonly (number | string)[];
}

/**
 * An ORT input description in the shared form. onnxruntime-web writes an
 * unnamed dynamic dim as 4294967295 and gives an empty shape both for a
 * scalar and for a shape the model does not declare, so an empty shape
 * takes any feed here (the donor's runtime still refuses a wrong one).
 */
export function declaredInput(spec: InputSpec): DeclaredInput {
  return {
    name: spec.name,
    dtype: spec.type,
    shape: spec.shape.length === 0 ? null : spec.shape.map(declaredDim),
  };
}

/** Why `feeds` do not fit the model's inputs, every problem in words, or null when they do. */
export function checkFeeds(inputs: readonly InputSpec[], feeds: TensorMap): string | null {
  const problems = findFeedProblems(inputs.map(declaredInput), feeds);
  return problems.length > 0 ? feedProblemsText(problems) : null;
}

/** Why a manifest is refused: stable codes, one list (the CLI, the page and the client react to them). */
import type { WireError } from '../errors.ts';

export const MANIFEST_PROBLEM_CODES = [
  /** Not JSON (or YAML), an unknown field, a field of the wrong type. */
  'bad-manifest',
  /** A task's model names no entry of `models`. */
  'unknown-model',
  /** Two tasks share an id, or a task's id is another's fan-out id (`ID-3`). */
  'duplicate-task',
  /** A feed comes `from` a task the manifest does not have. */
  'unknown-task',
  /** Tasks that wait on each other. */
  'cycle',
  /** A file the manifest names cannot be read. */
  'missing-file',
  /** A file that is not what its place needs (not ONNX, not a tensor, no such key). */
  'bad-file',
  /** A feed comes from an output its task's model does not have (or its task does not keep). */
  'unknown-output',
  /** A task's output and the input it feeds disagree on dtype or shape. */
  'stage-mismatch',
  /** A task's file and constant feeds do not fit its model (names, dtypes, shapes). */
  'feed-mismatch',
  /** A fan-out task whose task count cannot be told or does not agree. */
  'bad-fan-out',
  /** The job the manifest maps to is refused by the job checks (`validateJob`: a policy out of range…). */
  'invalid-job',
] as const;
export type ManifestProblemCode = (typeof MANIFEST_PROBLEM_CODES)[number];

export interface ManifestProblem extends WireError {
  readonly code: ManifestProblemCode;
}

/** Problems as lines for a person, at most `max` (default 30) then a count. */
export function manifestProblemsText(problems: readonly ManifestProblem[], max = 30): string {
  const lines = problems.slice(0, max).map((p) => `  ${p.message}`);
  if (problems.length > max) lines.push(`  … and ${problems.length - max} more`);
  return lines.join('\n');
}

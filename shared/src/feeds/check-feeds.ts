/**
 * Do a task's feeds fit the model? One check for the CLI, the page and the
 * page's workers: every name the model needs is given and nothing else, each
 * dtype is the declared one, each shape fits the declared dims (unnamed
 * dynamic dims take any size, a symbolic dim the same size everywhere it
 * appears in the task). Every problem is reported, not just the first.
 */
import { DTYPES, type Tensor, type TensorMap } from '../tensor.ts';
import { type DeclaredInput, shapeText } from './declared-input.ts';

export const FEED_PROBLEM_CODES = [
  /** A required model input has no feed. */
  'missing-feed',
  /** A feed names no model input. */
  'unknown-feed',
  /** The feed's dtype is not the declared one. */
  'feed-dtype',
  /** The feed's rank or a fixed dim differs from the declared shape. */
  'feed-shape',
  /** A symbolic dim has different sizes in different feeds of one task. */
  'dim-mismatch',
  /** The model declares a type no tensor PeerGrid moves can have (float16, string, sequences…). */
  'unsupported-input',
] as const;
export type FeedProblemCode = (typeof FEED_PROBLEM_CODES)[number];

export interface FeedProblem {
  readonly code: FeedProblemCode;
  readonly message: string;
}

/** Every way `feeds` do not fit `inputs`; empty when they fit. */
export function findFeedProblems(
  inputs: readonly DeclaredInput[],
  feeds: TensorMap,
): FeedProblem[] {
  const out: FeedProblem[] = [];
  const given = Object.keys(feeds);
  /** Symbolic dim → the first size seen and where. */
  const bound = new Map<string, { size: number; input: string }>();
  for (const spec of inputs) {
    const t: Tensor | undefined = Object.hasOwn(feeds, spec.name) ? feeds[spec.name] : undefined;
    if (!(DTYPES as readonly string[]).includes(spec.dtype)) {
      out.push({
        code: 'unsupported-input',
        message: `input "${spec.name}" is ${spec.dtype}, which PeerGrid cannot carry (it carries ${DTYPES.join(', ')})`,
      });
      continue;
    }
    if (!t) {
      if (!spec.optional) {
        out.push({
          code: 'missing-feed',
          message: `model input "${spec.name}" is missing (given: ${given.length ? given.join(', ') : 'none'})`,
        });
      }
      continue;
    }
    if (t.dtype !== spec.dtype) {
      out.push({
        code: 'feed-dtype',
        message: `input "${spec.name}" must be ${spec.dtype}, got ${t.dtype}`,
      });
    }
    const shape = spec.shape;
    if (shape === null) continue;
    const fits =
      shape.length === t.dims.length &&
      shape.every((d, i) => typeof d !== 'number' || d === t.dims[i]);
    if (!fits) {
      out.push({
        code: 'feed-shape',
        message: `input "${spec.name}" must have shape ${shapeText(shape)}, got [${t.dims.join(', ')}]`,
      });
      continue;
    }
    shape.forEach((d, i) => {
      if (typeof d !== 'string') return;
      const size = t.dims[i] ?? 0;
      const first = bound.get(d);
      if (!first) bound.set(d, { size, input: spec.name });
      else if (first.size !== size) {
        out.push({
          code: 'dim-mismatch',
          message: `dim "${d}" is ${first.size} in "${first.input}" but ${size} in "${spec.name}"`,
        });
      }
    });
  }
  const known = new Set(inputs.map((i) => i.name));
  const extra = given.filter((k) => !known.has(k));
  if (extra.length > 0) {
    const names = inputs.map((i) => i.name);
    out.push({
      code: 'unknown-feed',
      message: `the model has no input named ${extra.map((e) => `"${e}"`).join(', ')} (its inputs: ${names.length ? names.join(', ') : 'none'})`,
    });
  }
  return out;
}

/** Problems as one line. */
export function feedProblemsText(problems: readonly FeedProblem[]): string {
  return problems.map((p) => p.message).join('; ');
}

/** One task's feeds, by task id (or file, or whatever names it to the user). */
export interface NamedFeeds {
  readonly id: string;
  readonly feeds: TensorMap;
}

/** The problems of one task of a job. */
export interface TaskFeedProblems {
  readonly id: string;
  readonly problems: readonly FeedProblem[];
}

/** {@link findFeedProblems} over every task; only tasks with problems are listed. */
export function findJobFeedProblems(
  inputs: readonly DeclaredInput[],
  tasks: Iterable<NamedFeeds>,
): TaskFeedProblems[] {
  const out: TaskFeedProblems[] = [];
  for (const t of tasks) {
    const problems = findFeedProblems(inputs, t.feeds);
    if (problems.length > 0) out.push({ id: t.id, problems });
  }
  return out;
}

/** Options of {@link jobFeedProblemsText}. */
export interface JobFeedTextOptions {
  /** Tasks listed one by one; the rest are counted. Default 20. */
  readonly maxTasks?: number;
  /** What a task is called in the lines. Default 'task'. */
  readonly noun?: string;
}

/**
 * Every task's problems, a line each: when all tasks share the same
 * problems (one wrong dtype everywhere), one line says so for all of them.
 */
export function jobFeedProblemsText(
  list: readonly TaskFeedProblems[],
  options: JobFeedTextOptions = {},
): string {
  const max = options.maxTasks ?? 20;
  const noun = options.noun ?? 'task';
  const byText = new Map<string, string[]>();
  for (const t of list) {
    const text = feedProblemsText(t.problems);
    const ids = byText.get(text);
    if (ids) ids.push(t.id);
    else byText.set(text, [t.id]);
  }
  const lines: string[] = [];
  let listed = 0;
  for (const [text, ids] of byText) {
    if (lines.length === max) {
      lines.push(`… and ${list.length - listed} more ${noun}s with problems`);
      break;
    }
    listed += ids.length;
    const who =
      ids.length === 1
        ? `${noun} ${ids[0]}`
        : `${ids.length} ${noun}s (${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ', …' : ''})`;
    lines.push(`${who}: ${text}`);
  }
  return lines.join('\n');
}

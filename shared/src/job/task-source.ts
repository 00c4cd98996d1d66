/**
 * A job's tasks by position, without holding them all: the explicit
 * `spec.tasks` first, then each `TaskGroup`'s tasks, built on demand from the
 * group's template (a row block of a blob per task). A million-task job is a
 * few group records and one input tensor, not a million task objects.
 */
import { PeerGridError } from '../errors.ts';
import type { Tensor } from '../tensor.ts';
import type { FeedSpec, JobSpec, TaskGroup, TaskSpec } from './spec.ts';

/** Rows [start, end) of a tensor along its first axis, as a tensor that owns its bytes. */
export function rowsOf(t: Tensor, start: number, end: number): Tensor {
  const [rows = 0, ...rest] = t.dims;
  const hi = Math.min(end, rows);
  const rowBytes = rows === 0 ? 0 : t.data.byteLength / rows;
  return {
    dtype: t.dtype,
    dims: [hi - start, ...rest],
    data: t.data.slice(start * rowBytes, hi * rowBytes),
  };
}

/** `idPrefix` + index: the id of a group's task. */
export const groupTaskId = (g: TaskGroup, i: number) => `${g.idPrefix}${i}`;

export interface TaskSource {
  /** Tasks in all: explicit ones, then the groups'. */
  readonly count: number;
  /** Explicit tasks (`spec.tasks.length`); positions from here on are groups'. */
  readonly explicit: number;
  /** The task at a position, built from its group when it is a group's. */
  at(index: number): TaskSpec;
  /** The id at a position, without building the task. */
  idAt(index: number): string;
  /** A task's position, or -1 for an id no task has. */
  indexOf(id: string): number;
}

/** Digits at the end of an id, and what comes before them. */
const TRAILING = /^(.*?)(0|[1-9][0-9]*)$/;

export function createTaskSource(spec: JobSpec): TaskSource {
  const groups = spec.groups ?? [];
  const explicitIds = new Map(spec.tasks.map((t, i) => [t.id, i]));
  const starts: number[] = [];
  let count = spec.tasks.length;
  for (const g of groups) {
    starts.push(count);
    count += g.count;
  }
  const byPrefix = new Map(groups.map((g, k) => [g.idPrefix, k]));
  /** The group holding a position past the explicit tasks (binary search over the starts). */
  const locate = (index: number): [TaskGroup, number] => {
    let lo = 0;
    let hi = groups.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return [groups[lo]!, index - starts[lo]!];
  };
  const at = (index: number): TaskSpec => {
    if (index < spec.tasks.length) return spec.tasks[index]!;
    const [g, i] = locate(index);
    const feeds: Record<string, FeedSpec> = {};
    for (const [name, f] of Object.entries(g.feeds)) {
      if ('rowsOf' in f) {
        const blob = spec.blobs?.[f.rowsOf];
        if (!blob)
          throw new PeerGridError('invalid-job', `group ${g.idPrefix}: no blob ${f.rowsOf}`);
        feeds[name] = { tensor: rowsOf(blob, i * f.rows, (i + 1) * f.rows) };
      } else feeds[name] = f;
    }
    return {
      id: groupTaskId(g, i),
      model: g.model,
      feeds,
      ...(g.outputs ? { outputs: g.outputs } : {}),
    };
  };
  return {
    count,
    explicit: spec.tasks.length,
    at,
    idAt(index) {
      if (index < spec.tasks.length) return spec.tasks[index]!.id;
      const [g, i] = locate(index);
      return groupTaskId(g, i);
    },
    indexOf(id) {
      const e = explicitIds.get(id);
      if (e !== undefined) return e;
      const m = TRAILING.exec(id);
      const k = m ? byPrefix.get(m[1]!) : undefined;
      if (k === undefined) return -1;
      const i = Number(m![2]);
      return i < groups[k]!.count ? starts[k]! + i : -1;
    },
  };
}

/** Every task of a job as a list (small jobs: views, references, tests). */
export function allTasks(spec: JobSpec): TaskSpec[] {
  if (!spec.groups?.length) return [...spec.tasks];
  const src = createTaskSource(spec);
  return Array.from({ length: src.count }, (_, i) => src.at(i));
}

/** Tasks in all, groups included. */
export function taskCount(spec: JobSpec): number {
  let n = spec.tasks.length;
  for (const g of spec.groups ?? []) n += g.count;
  return n;
}

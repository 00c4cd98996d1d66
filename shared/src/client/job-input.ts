/**
 * What a program hands `GridClient.submit`: a `JobSpec`, or the same with
 * friendlier parts. Models may be keyed by any name (tasks name them), and a
 * feed may be a bare tensor; `toJobSpec` hashes the models, rekeys them by
 * SHA-256 as the engine keys them, and wraps bare tensors. A spec already in
 * engine form passes through unchanged (same job id).
 */
import type { FeedSpec, GroupFeedSpec, JobSpec, TaskGroup, TaskSpec } from '../job/spec.ts';
import type { Sha256Hex } from '../platform.ts';
import type { Tensor } from '../tensor.ts';

/** A feed: the engine's forms, or a tensor by itself. */
export type FeedInput = FeedSpec | Tensor;
export type GroupFeedInput = GroupFeedSpec | Tensor;

export interface TaskInput extends Omit<TaskSpec, 'feeds'> {
  /** The model's name in `JobInput.models` (or its SHA-256). */
  readonly model: string;
  readonly feeds: Readonly<Record<string, FeedInput>>;
}

export interface TaskGroupInput extends Omit<TaskGroup, 'feeds'> {
  readonly feeds: Readonly<Record<string, GroupFeedInput>>;
}

export interface JobInput extends Omit<JobSpec, 'tasks' | 'groups'> {
  /** Model bytes by a name of your choice (or by SHA-256 hex). */
  readonly models: Readonly<Record<string, Uint8Array>>;
  readonly tasks?: readonly TaskInput[];
  readonly groups?: readonly TaskGroupInput[];
}

const isTensor = (f: FeedInput | GroupFeedInput): f is Tensor =>
  'dtype' in f && 'dims' in f && 'data' in f;

/** The engine's spec for `input` (see the module comment). */
export async function toJobSpec(input: JobInput, sha256: Sha256Hex): Promise<JobSpec> {
  const hashOf = new Map<string, string>();
  const models: Record<string, Uint8Array> = {};
  for (const [name, bytes] of Object.entries(input.models)) {
    const hash = await sha256(bytes);
    hashOf.set(name, hash);
    models[hash] = bytes;
  }
  // An unknown name stays as it is: validation then names it (unknown-model).
  const model = (name: string) => hashOf.get(name) ?? name;
  const feeds = <F>(f: Readonly<Record<string, F | Tensor>>) =>
    Object.fromEntries(
      Object.entries(f).map(([k, v]) => [
        k,
        isTensor(v as FeedInput) ? { tensor: v as Tensor } : (v as F),
      ]),
    );
  const { tasks, groups, ...rest } = input;
  return {
    ...rest,
    models,
    tasks: (tasks ?? []).map((t) => ({
      ...t,
      model: model(t.model),
      feeds: feeds<FeedSpec>(t.feeds),
    })),
    ...(groups
      ? {
          groups: groups.map((g) => ({
            ...g,
            model: model(g.model),
            feeds: feeds<GroupFeedSpec>(g.feeds),
          })),
        }
      : {}),
  };
}

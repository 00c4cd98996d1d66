/**
 * The shape every workload generator returns: a job spec (structurally the
 * `JobSpec` of shared/src/job/spec.ts: models by SHA-256 hex, tasks whose
 * feeds are literal tensors or outputs of other tasks) plus a local reference
 * run, the same tasks run directly through an executor, to compare grid
 * output against.
 */
import {
  allTasks,
  type Backend,
  type Executor,
  type JobSpec,
  rowsOf,
  type Tensor,
  type TensorMap,
} from '@peergrid/shared';

/** A task feed: a literal tensor or an output of another task (the task graph). */
export type WorkloadFeed =
  | { readonly tensor: Tensor }
  | { readonly fromTask: string; readonly output: string };

export interface WorkloadTask {
  readonly id: string;
  /** SHA-256 hex of a model in `models`. */
  readonly model: string;
  readonly feeds: Readonly<Record<string, WorkloadFeed>>;
  /** Output names to fetch; all outputs when absent. */
  readonly outputs?: readonly string[];
}

/** Assignable to shared's `JobSpec`. */
export interface WorkloadSpec {
  readonly name: string;
  readonly models: Readonly<Record<string, Uint8Array>>;
  readonly blobs?: Readonly<Record<string, Tensor>>;
  readonly tasks: readonly WorkloadTask[];
  /** Tasks from templates (shared's `TaskGroup`), after `tasks`. */
  readonly groups?: JobSpec['groups'];
}

/** Options of a reference run. */
export interface ReferenceOptions {
  /** Per-task timeout. Default 60 000 ms. */
  readonly timeoutMs?: number;
  /** Backend to ask the executor for; its default when absent. */
  readonly backend?: Backend;
}

/** Outputs by task id. */
export type ReferenceOutputs = ReadonlyMap<string, TensorMap>;

export interface Workload {
  readonly spec: WorkloadSpec;
  /** Runs every task locally in dependency order. */
  reference(executor: Executor, options?: ReferenceOptions): Promise<ReferenceOutputs>;
}

/**
 * Runs a spec's tasks through an executor, wave by wave: every task whose
 * inputs are ready runs (concurrently, up to the executor's pool), then the next.
 * Throws on a dangling or cyclic reference.
 */
export async function runReference(
  spec: WorkloadSpec,
  executor: Executor,
  options: ReferenceOptions = {},
): Promise<ReferenceOutputs> {
  const done = new Map<string, TensorMap>();
  let pending = allTasks({ ...spec, tasks: spec.tasks as JobSpec['tasks'] }) as WorkloadTask[];
  while (pending.length > 0) {
    const ready = pending.filter((t) =>
      Object.values(t.feeds).every((f) => !('fromTask' in f) || done.has(f.fromTask)),
    );
    if (ready.length === 0)
      throw new Error(
        `tasks ${pending.map((t) => t.id).join(', ')} wait on missing or cyclic inputs`,
      );
    const results = await Promise.all(
      ready.map((t) => {
        const model = spec.models[t.model];
        if (!model) throw new Error(`task ${t.id}: no model ${t.model}`);
        const feeds: Record<string, Tensor> = {};
        for (const [name, f] of Object.entries(t.feeds)) {
          const tensor = 'fromTask' in f ? done.get(f.fromTask)?.[f.output] : f.tensor;
          if (!tensor)
            throw new Error(`task ${t.id}: ${name} wants missing output ${JSON.stringify(f)}`);
          feeds[name] = tensor;
        }
        return executor.run({
          modelHash: t.model,
          model,
          feeds,
          outputs: t.outputs,
          timeoutMs: options.timeoutMs ?? 60_000,
          backend: options.backend,
        });
      }),
    );
    ready.forEach((t, i) => {
      done.set(t.id, (results[i] as { outputs: TensorMap }).outputs);
    });
    pending = pending.filter((t) => !done.has(t.id));
  }
  return done;
}

/** Builds a workload from a spec, with {@link runReference} as its reference. */
export function createWorkload(spec: WorkloadSpec): Workload {
  return { spec, reference: (executor, options) => runReference(spec, executor, options) };
}

/** Rows [start, end) of a tensor along its first axis, as a new tensor (shared's `rowsOf`). */
export const sliceRows = rowsOf;

/**
 * The baseline of bench:grid: the donors' executors (same count, same
 * concurrency, onnxruntime-node CPU in child processes, as `peergrid-worker`
 * runs them) fed the same tasks from a local queue: no network, no
 * verification, no scheduling. The limit of this machine for that work.
 */
import type { Executor, JobSpec, Tensor } from '@peergrid/shared';
import { createNodeExecutor } from '../src/exec/node-executor.ts';

export async function baselineTasksPerSec(
  spec: JobSpec,
  donors: number,
  concurrency: number,
): Promise<number> {
  const executors: Executor[] = Array.from({ length: donors }, () =>
    createNodeExecutor({ backend: 'cpu', concurrency }),
  );
  const run = (ex: Executor, i: number) => {
    const t = spec.tasks[i]!;
    const feeds: Record<string, Tensor> = {};
    for (const [k, f] of Object.entries(t.feeds)) if ('tensor' in f) feeds[k] = f.tensor;
    return ex.run({ modelHash: t.model, model: spec.models[t.model]!, feeds, timeoutMs: 60_000 });
  };
  try {
    // Warm-up: every runner loads the model once.
    await Promise.all(
      executors.flatMap((ex) => Array.from({ length: concurrency }, (_, j) => run(ex, j))),
    );
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      executors.flatMap((ex) =>
        Array.from({ length: concurrency }, async () => {
          for (let i = next++; i < spec.tasks.length; i = next++) await run(ex, i);
        }),
      ),
    );
    return spec.tasks.length / ((performance.now() - t0) / 1000);
  } finally {
    await Promise.all(executors.map((ex) => ex.close()));
  }
}

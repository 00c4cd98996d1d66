/**
 * The doctor's self-benchmark: the bundled matmul model (a preset of
 * src/workloads/matmul.ts) through the same Node executor a worker runs
 * tasks with, for a fixed time, on one backend. Sessions are made first (one
 * task per runner, not timed); then tasks are kept in flight until the time
 * is up, and the rate is the tasks finished over the time they took.
 */
import { performance } from 'node:perf_hooks';
import type { Tensor } from '@peergrid/shared';
import type { NodeBackend } from '../exec/detect-backends.ts';
import { createNodeExecutor } from '../exec/node-executor.ts';
import { createMatmulInput, createMatmulModel, MATMUL_PRESETS } from '../workloads/matmul.ts';
import { modelHash } from '../workloads/onnx-builder.ts';

export type BenchPreset = keyof typeof MATMUL_PRESETS;
export const BENCH_PRESETS = Object.keys(MATMUL_PRESETS) as BenchPreset[];

export interface BenchOptions {
  readonly backend: NodeBackend;
  readonly seconds: number;
  /** Runners (tasks run at once), as the worker's `--concurrency`. */
  readonly concurrency: number;
  readonly preset: BenchPreset;
  /** Hears the progress about 4 times a second. */
  readonly onProgress?: (elapsedS: number, tasks: number) => void;
}

export interface BenchResult {
  readonly backend: NodeBackend;
  readonly preset: BenchPreset;
  readonly concurrency: number;
  readonly tasks: number;
  /** From the first timed task's start to the last one's end. */
  readonly seconds: number;
  readonly tasksPerSec: number;
  /** Making the sessions (model load, provider start), ms. */
  readonly warmupMs: number;
}

/** One task's timeout, ms: far above any preset's run time. */
const TASK_TIMEOUT_MS = 60_000;
/** Distinct inputs cycled through. */
const INPUTS = 8;

/** A plain-words name of a preset's task, for the report. */
export function describePreset(preset: BenchPreset): string {
  const p = MATMUL_PRESETS[preset];
  return `matmul ${preset} (${p.batch}×${p.size} input, ${p.layers} MatMul+Tanh layers)`;
}

export async function runSelfBench(o: BenchOptions): Promise<BenchResult> {
  const p = MATMUL_PRESETS[o.preset];
  const model = createMatmulModel({ size: p.size, layers: p.layers });
  const hash = modelHash(model);
  const inputs: Tensor[] = Array.from({ length: INPUTS }, (_, i) =>
    createMatmulInput(p.batch, p.size, 1 + i),
  );
  const executor = createNodeExecutor({ backend: o.backend, concurrency: o.concurrency });
  let next = 0;
  const task = () =>
    executor.run({
      modelHash: hash,
      model,
      feeds: { x: inputs[next++ % INPUTS]! },
      timeoutMs: TASK_TIMEOUT_MS,
      backend: o.backend,
    });
  try {
    const w0 = performance.now();
    await Promise.all(Array.from({ length: o.concurrency }, task));
    const warmupMs = performance.now() - w0;
    let done = 0;
    const t0 = performance.now();
    const end = t0 + o.seconds * 1000;
    let last = t0;
    const progress = setInterval(() => o.onProgress?.((performance.now() - t0) / 1000, done), 250);
    try {
      // Twice the runners in flight, so a runner never waits for the next task.
      const lane = async () => {
        while (performance.now() < end) {
          await task();
          done++;
          last = performance.now();
        }
      };
      await Promise.all(Array.from({ length: 2 * o.concurrency }, lane));
    } finally {
      clearInterval(progress);
    }
    const seconds = (last - t0) / 1000;
    o.onProgress?.(seconds, done);
    return {
      backend: o.backend,
      preset: o.preset,
      concurrency: o.concurrency,
      tasks: done,
      seconds,
      tasksPerSec: seconds > 0 ? done / seconds : 0,
      warmupMs,
    };
  } finally {
    await executor.close();
  }
}

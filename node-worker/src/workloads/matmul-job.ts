/**
 * Benchmark jobs over a generated matmul model: `tasks` independent tasks,
 * each a distinct seeded input, or a chain where each task's output is the
 * next one's input (a task graph of depth `tasks`).
 */
import { createMatmulInput, createMatmulModel, MATMUL_PRESETS } from './matmul.ts';
import { modelHash } from './onnx-builder.ts';
import { createWorkload, type Workload, type WorkloadTask } from './workload.ts';

/** Options of {@link createMatmulJob}. */
export interface MatmulJobOptions {
  /** A preset name, or explicit sizes. Default 'ms2'. */
  readonly preset?: keyof typeof MATMUL_PRESETS;
  readonly size?: number;
  readonly layers?: number;
  readonly batch?: number;
  /** Number of tasks. Default 100. */
  readonly tasks?: number;
  /** Input seed of task 0 (task i uses seed + i). Default 1. */
  readonly seed?: number;
  /** Chain tasks: task i+1 takes task i's `y` as its `x`. Default false. */
  readonly chain?: boolean;
}

/** Task ids `mm-0`, `mm-1`, …; model input `x`, output `y` (float32 [batch, size]). */
export function createMatmulJob(options: MatmulJobOptions = {}): Workload {
  const preset = MATMUL_PRESETS[options.preset ?? 'ms2'];
  const size = options.size ?? preset.size;
  const layers = options.layers ?? preset.layers;
  const batch = options.batch ?? preset.batch;
  const model = createMatmulModel({ size, layers });
  const hash = modelHash(model);
  const seed = options.seed ?? 1;
  const tasks: WorkloadTask[] = Array.from({ length: options.tasks ?? 100 }, (_, i) => ({
    id: `mm-${i}`,
    model: hash,
    feeds: {
      x:
        options.chain && i > 0
          ? { fromTask: `mm-${i - 1}`, output: 'y' }
          : { tensor: createMatmulInput(batch, size, seed + i) },
    },
  }));
  return createWorkload({
    name: `matmul-${size}x${layers}${options.chain ? '-chain' : ''}`,
    models: { [hash]: model },
    tasks,
  });
}

/**
 * Benchmark jobs over a generated matmul model: `tasks` independent tasks,
 * each a distinct seeded input, or a chain where each task's output is the
 * next one's input (a task graph of depth `tasks`).
 */
import { createHash } from 'node:crypto';
import { canonicalBytes, type Tensor } from '@peergrid/shared';
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
  /**
   * One task group over one input tensor ([tasks × batch, size], task i's
   * rows its seeded input) instead of a task list: a million tasks cost one
   * tensor, not a million task objects. Same ids and inputs. Not with `chain`.
   * Default false.
   */
  readonly grouped?: boolean;
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
  const count = options.tasks ?? 100;
  if (options.grouped && !options.chain) {
    const rows = new Uint8Array(count * batch * size * 4);
    for (let i = 0; i < count; i++)
      rows.set(createMatmulInput(batch, size, seed + i).data, i * batch * size * 4);
    const input: Tensor = { dtype: 'float32', dims: [count * batch, size], data: rows };
    const blob = createHash('sha256').update(canonicalBytes(input)).digest('hex');
    return createWorkload({
      name: `matmul-${size}x${layers}`,
      models: { [hash]: model },
      blobs: { [blob]: input },
      tasks: [],
      groups: [
        { idPrefix: 'mm-', count, model: hash, feeds: { x: { rowsOf: blob, rows: batch } } },
      ],
    });
  }
  const tasks: WorkloadTask[] = Array.from({ length: count }, (_, i) => ({
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

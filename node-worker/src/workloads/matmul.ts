/**
 * Generated matmul-heavy models for benchmarks and tests: `layers` rounds of
 * MatMul by one shared size×size matrix then Tanh (bounded values), with
 * weights from a seeded generator, so bytes and outputs are reproducible and
 * the model stays small however long a task runs.
 */
import { type Tensor, tensorFrom } from '@peergrid/shared';
import {
  buildOnnxModel,
  createSeededRandom,
  type Initializer,
  type NodeSpec,
} from './onnx-builder.ts';

/** Options of {@link createMatmulModel}. */
export interface MatmulModelOptions {
  /** Width of the square weight matrices and of the input rows. */
  readonly size: number;
  /** MatMul+Tanh rounds. 0 gives a near-empty model (one Identity). */
  readonly layers: number;
  /** Weight seed. Default 1. */
  readonly seed?: number;
}

/**
 * Presets measured on one core with onnxruntime-node (batch 64):
 * `tiny` ≈ a near-empty task, `ms2` ≈ 2 ms, `ms20` ≈ 20 ms (see the report
 * printed by `npm run -w node-worker calibrate:matmul`; the
 * machine's speed shifts them, the ratio between them stays 10).
 */
export const MATMUL_PRESETS = {
  tiny: { size: 4, layers: 0, batch: 1 },
  ms2: { size: 256, layers: 24, batch: 64 },
  ms20: { size: 256, layers: 240, batch: 64 },
} as const satisfies Record<string, MatmulModelOptions & { batch: number }>;

/** Model: input `x` float32 [batch, size] → output `y` float32 [batch, size]. */
export function createMatmulModel(options: MatmulModelOptions): Uint8Array {
  const { size, layers } = options;
  const random = createSeededRandom(options.seed ?? 1);
  const scale = Math.sqrt(3 / size) * 1.5;
  const initializers: Initializer[] = [];
  const nodes: NodeSpec[] = [];
  if (layers > 0) {
    const values = new Float32Array(size * size);
    for (let j = 0; j < values.length; j++) values[j] = (random() * 2 - 1) * scale;
    initializers.push({ name: 'w', dims: [size, size], values });
  }
  let prev = 'x';
  for (let i = 0; i < layers; i++) {
    const out = i === layers - 1 ? 'y' : `h${i}`;
    nodes.push({ op: 'MatMul', inputs: [prev, 'w'], outputs: [`m${i}`] });
    nodes.push({ op: 'Tanh', inputs: [`m${i}`], outputs: [out] });
    prev = out;
  }
  if (layers === 0) nodes.push({ op: 'Identity', inputs: ['x'], outputs: ['y'] });
  return buildOnnxModel({
    name: `matmul_${size}x${layers}`,
    inputs: [{ name: 'x', dtype: 'float32', dims: ['batch', size] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: ['batch', size] }],
    initializers,
    nodes,
  });
}

/** A deterministic input for a matmul model: values in [-1, 1). */
export function createMatmulInput(batch: number, size: number, seed: number): Tensor {
  const random = createSeededRandom(seed);
  const values = new Float32Array(batch * size);
  for (let i = 0; i < values.length; i++) values[i] = random() * 2 - 1;
  return tensorFrom('float32', [batch, size], values);
}

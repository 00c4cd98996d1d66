/**
 * examples/three-stage: a graph with fan-out and fan-in, three small models
 * built with the workloads' ONNX builder.
 *   features (fan-out, a task per 2 rows of x [8, 4]):  h = relu(x·W1 + b1)   [2, 6]
 *   project  (fan-out over features' tasks):             y = tanh(h·W2 + b2)   [2, 3]
 *   combine  (fan-in, one task over the 4 projections):  total = Σ part_i      [2, 3]
 * The reference computes the same in plain TypeScript, independent of ONNX Runtime.
 */
import { type Tensor, tensorFrom, tensorValues } from '@peergrid/shared';
import { buildOnnxModel, createSeededRandom } from '../workloads/onnx-builder.ts';

export const THREE_STAGE = { rows: 8, inDim: 4, hidden: 6, outDim: 3, rowsPerTask: 2 } as const;
/** Tasks of each fan-out stage. */
export const THREE_STAGE_FAN = THREE_STAGE.rows / THREE_STAGE.rowsPerTask;

function weights() {
  const { inDim, hidden, outDim } = THREE_STAGE;
  const rnd = createSeededRandom(1403);
  const fill = (n: number) => Float32Array.from({ length: n }, () => rnd() * 2 - 1);
  return {
    w1: fill(inDim * hidden),
    b1: fill(hidden),
    w2: fill(hidden * outDim),
    b2: fill(outDim),
  };
}

export function threeStageModels(): {
  features: Uint8Array;
  project: Uint8Array;
  combine: Uint8Array;
} {
  const { inDim, hidden, outDim } = THREE_STAGE;
  const w = weights();
  const features = buildOnnxModel({
    name: 'features',
    inputs: [{ name: 'x', dtype: 'float32', dims: ['rows', inDim] }],
    outputs: [{ name: 'h', dtype: 'float32', dims: ['rows', hidden] }],
    initializers: [
      { name: 'W1', dims: [inDim, hidden], values: w.w1 },
      { name: 'B1', dims: [hidden], values: w.b1 },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'W1'], outputs: ['xw'] },
      { op: 'Add', inputs: ['xw', 'B1'], outputs: ['pre'] },
      { op: 'Relu', inputs: ['pre'], outputs: ['h'] },
    ],
  });
  const project = buildOnnxModel({
    name: 'project',
    inputs: [{ name: 'h', dtype: 'float32', dims: ['rows', hidden] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: ['rows', outDim] }],
    initializers: [
      { name: 'W2', dims: [hidden, outDim], values: w.w2 },
      { name: 'B2', dims: [outDim], values: w.b2 },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['h', 'W2'], outputs: ['hw'] },
      { op: 'Add', inputs: ['hw', 'B2'], outputs: ['pre'] },
      { op: 'Tanh', inputs: ['pre'], outputs: ['y'] },
    ],
  });
  const parts = Array.from({ length: THREE_STAGE_FAN }, (_, i) => `part${i}`);
  const combine = buildOnnxModel({
    name: 'combine',
    inputs: parts.map((name) => ({ name, dtype: 'float32' as const, dims: ['rows', outDim] })),
    outputs: [{ name: 'total', dtype: 'float32', dims: ['rows', outDim] }],
    initializers: [],
    nodes: [{ op: 'Sum', inputs: parts, outputs: ['total'] }],
  });
  return { features, project, combine };
}

export function threeStageInput(): Tensor {
  const { rows, inDim } = THREE_STAGE;
  const rnd = createSeededRandom(1404);
  return tensorFrom(
    'float32',
    [rows, inDim],
    Float32Array.from({ length: rows * inDim }, () => rnd() * 4 - 2),
  );
}

/** Every stage's outputs in plain TypeScript, by task id as the manifest names them. */
export function threeStageReference(x: Tensor): Map<string, Record<string, Tensor>> {
  const { inDim, hidden, outDim, rowsPerTask } = THREE_STAGE;
  const w = weights();
  const xs = tensorValues(x) as Float32Array;
  const dense = (
    input: ArrayLike<number>,
    rows: number,
    n: number,
    m: number,
    wm: Float32Array,
    b: Float32Array,
    act: (v: number) => number,
  ) => {
    const out = new Float32Array(rows * m);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < m; j++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += (input[r * n + k] ?? 0) * (wm[k * m + j] ?? 0);
        out[r * m + j] = act(Math.fround(acc) + (b[j] ?? 0));
      }
    }
    return out;
  };
  const out = new Map<string, Record<string, Tensor>>();
  const total = new Float64Array(rowsPerTask * outDim);
  for (let i = 0; i < THREE_STAGE_FAN; i++) {
    const block = xs.subarray(i * rowsPerTask * inDim, (i + 1) * rowsPerTask * inDim);
    const h = dense(block, rowsPerTask, inDim, hidden, w.w1, w.b1, (v) => Math.max(0, v));
    const y = dense(h, rowsPerTask, hidden, outDim, w.w2, w.b2, Math.tanh);
    out.set(`features-${i}`, { h: tensorFrom('float32', [rowsPerTask, hidden], h) });
    out.set(`project-${i}`, { y: tensorFrom('float32', [rowsPerTask, outDim], y) });
    y.forEach((v, k) => {
      total[k] = (total[k] ?? 0) + v;
    });
  }
  out.set('combine', {
    total: tensorFrom('float32', [rowsPerTask, outDim], Float32Array.from(total)),
  });
  return out;
}

export function threeStageManifest(): Record<string, unknown> {
  return {
    name: 'three-stage graph',
    models: { features: 'features.onnx', project: 'project.onnx', combine: 'combine.onnx' },
    tasks: [
      {
        id: 'features',
        model: 'features',
        forEach: { rows: THREE_STAGE.rowsPerTask },
        feeds: { x: { file: 'x.npy', split: true } },
      },
      {
        id: 'project',
        model: 'project',
        forEach: {},
        feeds: { h: { from: 'features', output: 'h' } },
      },
      { id: 'combine', model: 'combine', feeds: { 'part{i}': { from: 'project', output: 'y' } } },
    ],
    policy: { replicas: 2, quorum: 2, compare: 'tolerance:1e-5' },
  };
}

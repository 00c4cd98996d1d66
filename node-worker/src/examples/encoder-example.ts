/**
 * examples/encoder: a two-input encoder, built with the workloads' ONNX
 * builder. `input_ids` and `attention_mask` (int64 [batch, seq]) go through a
 * token embedding, mean-pooling over the tokens the mask keeps, a dense layer
 * and tanh:
 *   e      = Embedding[input_ids]                 [batch, seq, 16]
 *   pooled = Σ_s mask·e / Σ_s mask               [batch, 16]
 *   out    = tanh(pooled · W + b)                 [batch, 8]
 * The reference computes the same in plain TypeScript (float64, then
 * rounded), independent of ONNX Runtime.
 */
import { type Tensor, tensorFrom, tensorValues } from '@peergrid/shared';
import { buildOnnxModel, createSeededRandom } from '../workloads/onnx-builder.ts';

export const ENCODER = { vocab: 64, dim: 16, out: 8, seq: 12, rows: 24, rowsPerTask: 4 } as const;

interface Weights {
  readonly embedding: Float32Array;
  readonly w: Float32Array;
  readonly b: Float32Array;
}

function weights(): Weights {
  const rnd = createSeededRandom(1401);
  const fill = (n: number, scale: number) =>
    Float32Array.from({ length: n }, () => (rnd() * 2 - 1) * scale);
  return {
    embedding: fill(ENCODER.vocab * ENCODER.dim, 1),
    w: fill(ENCODER.dim * ENCODER.out, 0.5),
    b: fill(ENCODER.out, 0.1),
  };
}

export function encoderModel(): Uint8Array {
  const { vocab, dim, out } = ENCODER;
  const w = weights();
  return buildOnnxModel({
    name: 'encoder',
    inputs: [
      { name: 'input_ids', dtype: 'int64', dims: ['batch', 'seq'] },
      { name: 'attention_mask', dtype: 'int64', dims: ['batch', 'seq'] },
    ],
    outputs: [{ name: 'embedding', dtype: 'float32', dims: ['batch', out] }],
    initializers: [
      { name: 'E', dims: [vocab, dim], values: w.embedding },
      { name: 'W', dims: [dim, out], values: w.w },
      { name: 'B', dims: [out], values: w.b },
      { name: 'ones', dims: [dim], values: new Float32Array(dim).fill(1) },
    ],
    nodes: [
      { op: 'Gather', inputs: ['E', 'input_ids'], outputs: ['tokens'], attrs: { axis: 0 } },
      { op: 'Cast', inputs: ['attention_mask'], outputs: ['mask'], attrs: { to: 1 } },
      {
        op: 'Einsum',
        inputs: ['tokens', 'mask'],
        outputs: ['summed'],
        attrs: { equation: 'bsd,bs->bd' },
      },
      {
        op: 'Einsum',
        inputs: ['mask', 'ones'],
        outputs: ['kept'],
        attrs: { equation: 'bs,d->bd' },
      },
      { op: 'Div', inputs: ['summed', 'kept'], outputs: ['pooled'] },
      { op: 'MatMul', inputs: ['pooled', 'W'], outputs: ['dense'] },
      { op: 'Add', inputs: ['dense', 'B'], outputs: ['pre'] },
      { op: 'Tanh', inputs: ['pre'], outputs: ['embedding'] },
    ],
  });
}

/** Token ids and masks: each row keeps a prefix of 2..seq tokens (the rest is padding, id 0). */
export function encoderInputs(): { input_ids: Tensor; attention_mask: Tensor } {
  const { rows, seq, vocab } = ENCODER;
  const rnd = createSeededRandom(1402);
  const ids = new BigInt64Array(rows * seq);
  const mask = new BigInt64Array(rows * seq);
  for (let r = 0; r < rows; r++) {
    const len = 2 + Math.floor(rnd() * (seq - 1));
    for (let s = 0; s < seq; s++) {
      const keep = s < len;
      ids[r * seq + s] = keep ? BigInt(1 + Math.floor(rnd() * (vocab - 1))) : 0n;
      mask[r * seq + s] = keep ? 1n : 0n;
    }
  }
  return {
    input_ids: tensorFrom('int64', [rows, seq], ids),
    attention_mask: tensorFrom('int64', [rows, seq], mask),
  };
}

/** The encoder of every row in plain TypeScript: [rows, out] float32. */
export function encoderReference(inputs: { input_ids: Tensor; attention_mask: Tensor }): Tensor {
  const { dim, out } = ENCODER;
  const w = weights();
  const ids = tensorValues(inputs.input_ids) as BigInt64Array;
  const mask = tensorValues(inputs.attention_mask) as BigInt64Array;
  const [rows = 0, seq = 0] = inputs.input_ids.dims;
  const result = new Float32Array(rows * out);
  for (let r = 0; r < rows; r++) {
    const pooled = new Float64Array(dim);
    let kept = 0;
    for (let s = 0; s < seq; s++) {
      const m = Number(mask[r * seq + s]);
      const id = Number(ids[r * seq + s]);
      kept += m;
      for (let d = 0; d < dim; d++)
        pooled[d] = (pooled[d] ?? 0) + m * (w.embedding[id * dim + d] ?? 0);
    }
    for (let o = 0; o < out; o++) {
      let acc = w.b[o] ?? 0;
      for (let d = 0; d < dim; d++) acc += ((pooled[d] ?? 0) / kept) * (w.w[d * out + o] ?? 0);
      result[r * out + o] = Math.tanh(acc);
    }
  }
  return tensorFrom('float32', [rows, out], result);
}

/** The manifest: a task per `rowsPerTask` rows, both inputs split together from one .npz. */
export function encoderManifest(): Record<string, unknown> {
  return {
    name: 'two-input encoder',
    models: { encoder: 'encoder.onnx' },
    tasks: [
      {
        id: 'embed',
        model: 'encoder',
        forEach: { rows: ENCODER.rowsPerTask },
        feeds: {
          input_ids: { file: 'inputs.npz', split: true },
          attention_mask: { file: 'inputs.npz', split: true },
        },
      },
    ],
    policy: { replicas: 2, quorum: 2, compare: 'tolerance:1e-5' },
  };
}

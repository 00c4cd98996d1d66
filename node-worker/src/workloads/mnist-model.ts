/**
 * ONNX export of the MNIST MLP (opset 13). The full model maps uint8 pixels
 * straight to logits and a label, so inputs travel as 784 bytes per digit:
 *   pixels uint8 [N,784] → Cast → ×1/255 → MatMul w1 → Add b1 → Relu
 *   → MatMul w2 → Add b2 → logits float32 [N,10]; ArgMax → label int64 [N].
 * The two stage models split it at the hidden layer, for two-stage jobs.
 */
import type { MlpWeights } from './mlp-train.ts';
import {
  buildOnnxModel,
  type Initializer,
  type NodeSpec,
  readInitializers,
} from './onnx-builder.ts';

const FLOAT = 1;

function hiddenPart(w: MlpWeights): { inits: Initializer[]; nodes: NodeSpec[] } {
  return {
    inits: [
      { name: 'scale', dims: [], values: new Float32Array([1 / 255]) },
      { name: 'w1', dims: [w.inputs, w.hidden], values: w.w1 },
      { name: 'b1', dims: [w.hidden], values: w.b1 },
    ],
    nodes: [
      { op: 'Cast', inputs: ['pixels'], outputs: ['pixels_f'], attrs: { to: FLOAT } },
      { op: 'Mul', inputs: ['pixels_f', 'scale'], outputs: ['x'] },
      { op: 'MatMul', inputs: ['x', 'w1'], outputs: ['h_mm'] },
      { op: 'Add', inputs: ['h_mm', 'b1'], outputs: ['h_pre'] },
      { op: 'Relu', inputs: ['h_pre'], outputs: ['hidden'] },
    ],
  };
}

function headPart(w: MlpWeights): { inits: Initializer[]; nodes: NodeSpec[] } {
  return {
    inits: [
      { name: 'w2', dims: [w.hidden, w.classes], values: w.w2 },
      { name: 'b2', dims: [w.classes], values: w.b2 },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['hidden', 'w2'], outputs: ['o_mm'] },
      { op: 'Add', inputs: ['o_mm', 'b2'], outputs: ['logits'] },
      { op: 'ArgMax', inputs: ['logits'], outputs: ['label'], attrs: { axis: 1, keepdims: 0 } },
    ],
  };
}

const HEAD_OUTPUTS = (w: MlpWeights) =>
  [
    { name: 'logits', dtype: 'float32', dims: ['n', w.classes] },
    { name: 'label', dtype: 'int64', dims: ['n'] },
  ] as const;

/** The whole classifier: `pixels` uint8 [n,784] → `logits` float32 [n,10], `label` int64 [n]. */
export function createMnistModel(w: MlpWeights): Uint8Array {
  const a = hiddenPart(w);
  const b = headPart(w);
  return buildOnnxModel({
    name: 'mnist_mlp',
    inputs: [{ name: 'pixels', dtype: 'uint8', dims: ['n', w.inputs] }],
    outputs: HEAD_OUTPUTS(w),
    initializers: [...a.inits, ...b.inits],
    nodes: [...a.nodes, ...b.nodes],
  });
}

/** Stage 1: `pixels` → `hidden` float32 [n,64]; stage 2: `hidden` → `logits`, `label`. */
export function createMnistStageModels(w: MlpWeights): {
  readonly hidden: Uint8Array;
  readonly head: Uint8Array;
} {
  const a = hiddenPart(w);
  const b = headPart(w);
  return {
    hidden: buildOnnxModel({
      name: 'mnist_hidden',
      inputs: [{ name: 'pixels', dtype: 'uint8', dims: ['n', w.inputs] }],
      outputs: [{ name: 'hidden', dtype: 'float32', dims: ['n', w.hidden] }],
      initializers: a.inits,
      nodes: a.nodes,
    }),
    head: buildOnnxModel({
      name: 'mnist_head',
      inputs: [{ name: 'hidden', dtype: 'float32', dims: ['n', w.hidden] }],
      outputs: HEAD_OUTPUTS(w),
      initializers: b.inits,
      nodes: b.nodes,
    }),
  };
}

/** Reads the weights back out of a model made by {@link createMnistModel}; null if it is not one. */
export function readMnistWeights(model: Uint8Array): MlpWeights | null {
  const inits = readInitializers(model);
  const [w1, b1, w2, b2] = ['w1', 'b1', 'w2', 'b2'].map((n) => inits.get(n));
  if (!w1 || !b1 || !w2 || !b2 || w1.dims.length !== 2 || w2.dims.length !== 2) return null;
  const [inputs = 0, hidden = 0] = w1.dims;
  const classes = w2.dims[1] ?? 0;
  return { inputs, hidden, classes, w1: w1.values, b1: b1.values, w2: w2.values, b2: b2.values };
}

/**
 * A model's declared inputs from its ONNX ModelProto (onnx-proto), in the
 * form the shared feed check takes. Graph inputs that an initializer of the
 * same name backs have a default: they are optional.
 */
import { type DeclaredDim, type DeclaredInput, declaredDim } from '@peergrid/shared';
import onnxProto from 'onnx-proto';

/** ONNX TensorProto.DataType → the element type name ONNX Runtime uses. */
const ELEM_TYPE: Readonly<Record<number, string>> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
};

type ValueInfo = onnxProto.onnx.IValueInfoProto;

/** A graph input or output in the shared declared form. */
function declaredValue(i: ValueInfo, optional: boolean): DeclaredInput {
  const name = i.name ?? '';
  const tensor = i.type?.tensorType;
  const opt = optional ? { optional: true } : {};
  if (!tensor) return { name, dtype: 'non-tensor', shape: null, ...opt };
  const dtype = ELEM_TYPE[tensor.elemType ?? 0] ?? `onnx type ${tensor.elemType ?? 0}`;
  const shape: DeclaredDim[] | null = tensor.shape
    ? // A decoded message owns only the fields the file set: neither means an unnamed dim.
      (tensor.shape.dim ?? []).map((d) =>
        Object.hasOwn(d, 'dimValue')
          ? declaredDim(Number(d.dimValue))
          : Object.hasOwn(d, 'dimParam')
            ? declaredDim(d.dimParam)
            : null,
      )
    : null;
  return { name, dtype, shape, ...opt };
}

/** The model's graph inputs; throws when the bytes are not an ONNX model. */
export function declaredInputs(model: Uint8Array): DeclaredInput[] {
  return describeOnnxModel(model).inputs;
}

/** The model's graph inputs and outputs; throws when the bytes are not an ONNX model. */
export function describeOnnxModel(model: Uint8Array): {
  inputs: DeclaredInput[];
  outputs: DeclaredInput[];
} {
  const m = onnxProto.onnx.ModelProto.decode(model);
  if (!m.graph) throw new Error('not an ONNX model (no graph)');
  const inits = new Set((m.graph.initializer ?? []).map((t) => t.name));
  return {
    inputs: (m.graph.input ?? [])
      .filter((i) => i.name)
      .map((i) => declaredValue(i, inits.has(i.name ?? ''))),
    outputs: (m.graph.output ?? []).filter((o) => o.name).map((o) => declaredValue(o, false)),
  };
}

/** The inputs a caller must feed (no default), in order. */
export function requiredInputNames(inputs: readonly DeclaredInput[]): string[] {
  return inputs.filter((i) => !i.optional).map((i) => i.name);
}

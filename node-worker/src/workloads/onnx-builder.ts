/**
 * A small builder for ONNX graphs (opset 13) on top of onnx-proto: enough for
 * the generated workloads (MatMul/Add/Relu/Tanh/Cast/Mul/ArgMax/Identity).
 */
import { createHash } from 'node:crypto';
import { type DType, type Random, seededRandom } from '@peergrid/shared';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** ONNX TensorProto.DataType numbers for the dtypes PeerGrid moves. */
const ONNX_TYPE: Readonly<Record<DType, number>> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float64: 11,
};

/** A graph input or output: a name, a dtype and dims (strings are symbolic). */
export interface ValueSpec {
  readonly name: string;
  readonly dtype: DType;
  readonly dims: readonly (number | string)[];
}

/** A float32 constant baked into the model. */
export interface Initializer {
  readonly name: string;
  readonly dims: readonly number[];
  readonly values: Float32Array;
}

export interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Integer attributes (ArgMax axis/keepdims, Cast to) and string ones (Einsum equation). */
  readonly attrs?: Readonly<Record<string, number | string>>;
}

export interface GraphSpec {
  readonly name: string;
  readonly inputs: readonly ValueSpec[];
  readonly outputs: readonly ValueSpec[];
  readonly initializers: readonly Initializer[];
  readonly nodes: readonly NodeSpec[];
}

function valueInfo(v: ValueSpec): onnxProto.onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: ONNX_TYPE[v.dtype],
        shape: {
          dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  };
}

/** Encodes a graph as ONNX model bytes (IR version 7, opset 13). */
export function buildOnnxModel(spec: GraphSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'peergrid',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: spec.name,
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
      initializer: spec.initializers.map((init) => ({
        name: init.name,
        dims: [...init.dims],
        dataType: ONNX_TYPE.float32,
        rawData: new Uint8Array(init.values.buffer, init.values.byteOffset, init.values.byteLength),
      })),
      node: spec.nodes.map((n, i) => ({
        name: `${n.op.toLowerCase()}_${i}`,
        opType: n.op,
        input: [...n.inputs],
        output: [...n.outputs],
        attribute: Object.entries(n.attrs ?? {}).map(([name, a]) =>
          typeof a === 'string'
            ? {
                name,
                type: onnx.AttributeProto.AttributeType.STRING,
                s: new TextEncoder().encode(a),
              }
            : { name, type: onnx.AttributeProto.AttributeType.INT, i: a },
        ),
      })),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Reads the float32 initializers of a model (e.g. trained weights) by name. */
export function readInitializers(bytes: Uint8Array): Map<string, Initializer> {
  const model = onnx.ModelProto.decode(bytes);
  const out = new Map<string, Initializer>();
  for (const t of model.graph?.initializer ?? []) {
    if (t.dataType !== ONNX_TYPE.float32 || !t.rawData || !t.name) continue;
    const raw = new Uint8Array(t.rawData); // a copy: rawData may be an unaligned Buffer view
    const values = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
    out.set(t.name, { name: t.name, dims: (t.dims ?? []).map(Number), values });
  }
  return out;
}

/** SHA-256 hex of model bytes: the id a model travels under. */
export function modelHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Deterministic uniform [0, 1) source (mulberry32) for weights and data: shared's
 * `seededRandom`, kept under this name for existing importers. Fixture models are
 * generated from it, so its stream must not change.
 */
export const createSeededRandom: (seed: number) => Random = seededRandom;

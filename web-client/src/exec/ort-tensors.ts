import type { DType, ExecErrorCode, Tensor } from '@peergrid/shared';
import { tensorValues } from '@peergrid/shared';
import type * as Ort from 'onnxruntime-web';

/** The ORT module a worker loaded (its WASM-only or its WebGPU build). */
export type OrtModule = typeof Ort;

/**
 * A PeerGrid tensor as an ORT tensor of the module that runs it (sessions
 * only take their own module's tensors), sharing the bytes where alignment allows.
 */
export function toOrtTensor(ort: Pick<OrtModule, 'Tensor'>, t: Tensor): Ort.Tensor {
  const values = tensorValues(t);
  if (t.dtype === 'bool') return new ort.Tensor('bool', values as Uint8Array, [...t.dims]);
  return new ort.Tensor(t.dtype, values as Float32Array, [...t.dims]);
}

const CARRIED: readonly string[] = [
  'float32',
  'float64',
  'int32',
  'int64',
  'uint8',
  'int8',
  'bool',
];

/** An ORT output (possibly on the GPU) as a PeerGrid tensor owning its bytes. */
export async function fromOrtTensor(t: Ort.Tensor): Promise<Tensor> {
  if (!CARRIED.includes(t.type)) {
    throw { code: 'bad-model', message: `output type ${t.type} is not supported` };
  }
  const data = (t.location === 'cpu' ? t.data : await t.getData()) as ArrayBufferView;
  const bytes = new Uint8Array(data.byteLength);
  bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return { dtype: t.type as DType, dims: [...t.dims], data: bytes };
}

/** ORT's run errors are strings; the shape/type ones mean the feeds do not fit. */
export function classifyOrtError(e: unknown): ExecErrorCode {
  const msg = String((e as Error)?.message ?? e);
  if (/input|dims|shape|dimension|type|expected/i.test(msg)) return 'bad-input';
  if (/protobuf|model|opset|not implemented|unsupported/i.test(msg)) return 'bad-model';
  return 'internal';
}

/** Element types PeerGrid moves between peers (the ONNX tensor types ORT supports on every backend). */
export type DType = 'float32' | 'float64' | 'int32' | 'int64' | 'uint8' | 'int8' | 'bool';

/**
 * A tensor as it crosses every boundary (store, wire, worker): dtype, dims and
 * the raw little-endian bytes. Never a typed-array view with a foreign offset:
 * `data` owns exactly `byteLength(dtype, dims)` bytes.
 */
export interface Tensor {
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

/** Named tensors: the feeds of a task or the outputs of a model. */
export type TensorMap = Readonly<Record<string, Tensor>>;

const BYTES: Readonly<Record<DType, number>> = {
  float32: 4,
  float64: 8,
  int32: 4,
  int64: 8,
  uint8: 1,
  int8: 1,
  bool: 1,
};

export const DTYPES: readonly DType[] = Object.keys(BYTES) as DType[];

export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && Object.hasOwn(BYTES, x);
}

export function bytesPerElement(dtype: DType): number {
  return BYTES[dtype];
}

export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function byteLength(dtype: DType, dims: readonly number[]): number {
  return elementCount(dims) * BYTES[dtype];
}

/** Builds a tensor from a typed array, copying its bytes so the tensor owns them. */
export function tensorFrom(dtype: DType, dims: readonly number[], values: ArrayBufferView): Tensor {
  const data = new Uint8Array(values.byteLength);
  data.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  if (data.byteLength !== byteLength(dtype, dims)) {
    throw new RangeError(
      `tensor ${dtype}[${dims.join('x')}] needs ${byteLength(dtype, dims)} bytes, got ${data.byteLength}`,
    );
  }
  return { dtype, dims: [...dims], data };
}

/** A typed-array view over a tensor's bytes (copied when unaligned). */
export function tensorValues(
  t: Tensor,
): Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array {
  const aligned = t.data.byteOffset % bytesPerElement(t.dtype) === 0 ? t.data : t.data.slice();
  const { buffer, byteOffset, byteLength: len } = aligned;
  switch (t.dtype) {
    case 'float32':
      return new Float32Array(buffer, byteOffset, len / 4);
    case 'float64':
      return new Float64Array(buffer, byteOffset, len / 8);
    case 'int32':
      return new Int32Array(buffer, byteOffset, len / 4);
    case 'int64':
      return new BigInt64Array(buffer, byteOffset, len / 8);
    case 'int8':
      return new Int8Array(buffer, byteOffset, len);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer, byteOffset, len);
  }
}

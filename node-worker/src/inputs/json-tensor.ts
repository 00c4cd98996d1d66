/**
 * JSON tensors: either `{"dtype": "float32", "dims": [2, 3], "data": [...]}`
 * (data flat or nested; `shape` is accepted for `dims`; dtype defaults to
 * float32) or a bare nested array whose shape is inferred.
 */
import { type DType, elementCount, isDType, type Tensor, tensorFrom } from '@peergrid/shared';

function inferDims(x: unknown): number[] | null {
  const dims: number[] = [];
  let cur: unknown = x;
  while (Array.isArray(cur)) {
    dims.push(cur.length);
    cur = cur[0];
  }
  return dims.length > 0 ? dims : null;
}

function typed(dtype: DType, values: readonly number[]): ArrayBufferView | null {
  switch (dtype) {
    case 'float32':
      return Float32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
    case 'int32':
      return Int32Array.from(values);
    case 'int64':
      return values.every(Number.isInteger) ? BigInt64Array.from(values, (v) => BigInt(v)) : null;
    case 'uint8':
    case 'bool':
      return Uint8Array.from(values);
    case 'int8':
      return Int8Array.from(values);
  }
}

/** Parses a JSON tensor (see the file comment); null when it is ragged, non-numeric or the size is wrong. */
export function parseJsonTensor(raw: unknown): Tensor | null {
  let dtype: DType = 'float32';
  let dims: number[] | null;
  let data: unknown;
  if (Array.isArray(raw)) {
    dims = inferDims(raw);
    data = raw;
  } else if (typeof raw === 'object' && raw !== null) {
    const r = raw as Record<string, unknown>;
    if (r.dtype !== undefined) {
      if (!isDType(r.dtype)) return null;
      dtype = r.dtype;
    }
    const d = r.dims ?? r.shape;
    dims =
      Array.isArray(d) && d.every((n) => Number.isInteger(n) && n >= 0) ? (d as number[]) : null;
    data = r.data;
  } else {
    return null;
  }
  if (!dims || !Array.isArray(data)) return null;
  const flat = (data as unknown[]).flat(Number.POSITIVE_INFINITY);
  if (flat.length !== elementCount(dims)) return null;
  const values = flat.map((v) => (typeof v === 'boolean' ? Number(v) : v));
  if (!values.every((v): v is number => typeof v === 'number' && Number.isFinite(v))) return null;
  const view = typed(dtype, values);
  return view ? tensorFrom(dtype, dims, view) : null;
}

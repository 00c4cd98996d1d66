/**
 * JSON tensors a person can write by hand, read the same by the CLI and the
 * page. A tensor is a nested array (float32, dims inferred), a bare number
 * (a float32 scalar), or `{"dtype": "int64", "dims": [1, 3], "data": [1, 2, 3]}`
 * (`shape` is accepted for `dims`; dims are inferred from nested `data` when
 * absent; dtype defaults to float32; a scalar's `data` may be a number). A
 * file holds one tensor, or an object of them keyed by input name.
 */
import { type DType, elementCount, isDType, type Tensor, tensorFrom } from '../tensor.ts';

/** A tensor, or in words why the JSON is not one. */
export type JsonTensorResult =
  | { readonly ok: true; readonly tensor: Tensor }
  | { readonly ok: false; readonly error: string };

/** Named tensors, or in words why the JSON does not hold them. */
export type JsonTensorsResult =
  | { readonly ok: true; readonly tensors: Record<string, Tensor>; readonly named: boolean }
  | { readonly ok: false; readonly error: string };

/** The keys of the object form; an object with other keys is a map of named tensors. */
const TENSOR_KEYS = new Set(['dtype', 'dims', 'shape', 'data']);

/** Values each integer dtype holds (int64: what a JSON number holds exactly). */
const RANGE: Partial<Record<DType, readonly [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  bool: [0, 1],
};

function isTensorObject(raw: unknown): raw is Record<string, unknown> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return false;
  const keys = Object.keys(raw);
  return keys.includes('data') && keys.every((k) => TENSOR_KEYS.has(k));
}

/** Parses one JSON value (already `JSON.parse`d) as a tensor; see the file comment. */
export function parseJsonTensor(raw: unknown): JsonTensorResult {
  if (typeof raw === 'number' || typeof raw === 'boolean') return build('float32', [], [raw]);
  if (Array.isArray(raw)) {
    const dims = inferDims(raw);
    if (!dims) return { ok: false, error: 'ragged or non-numeric nested array' };
    return build('float32', dims, raw.flat(Number.POSITIVE_INFINITY) as unknown[]);
  }
  if (!isTensorObject(raw)) return { ok: false, error: 'expected a tensor {dtype, dims, data}' };
  const dtype = raw.dtype ?? 'float32';
  if (!isDType(dtype)) return { ok: false, error: `unknown dtype ${String(dtype)}` };
  const scalar = typeof raw.data === 'number' || typeof raw.data === 'boolean';
  const data = scalar
    ? [raw.data]
    : Array.isArray(raw.data)
      ? (raw.data.flat(Number.POSITIVE_INFINITY) as unknown[])
      : null;
  if (!data) return { ok: false, error: '"data" must be an array or a number' };
  const dims = raw.dims ?? raw.shape ?? (scalar ? [] : inferDims(raw.data));
  if (!Array.isArray(dims) || dims.some((d) => !Number.isInteger(d) || d < 0)) {
    return {
      ok: false,
      error: dims === null ? 'ragged nested "data"' : '"dims" must be non-negative integers',
    };
  }
  return build(dtype, dims as number[], data);
}

/**
 * Parses JSON text into named tensors: an object of tensors keyed by input
 * name (`named: true`), or one tensor, named `fallbackName` (`named: false`).
 */
export function parseJsonTensors(text: string, fallbackName: string): JsonTensorsResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `not valid JSON: ${(e as Error).message}` };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw) || isTensorObject(raw)) {
    const single = parseJsonTensor(raw);
    return single.ok
      ? { ok: true, tensors: { [fallbackName]: single.tensor }, named: false }
      : single;
  }
  const tensors: Record<string, Tensor> = {};
  const errors: string[] = [];
  for (const [name, value] of Object.entries(raw)) {
    const t = parseJsonTensor(value);
    if (t.ok) tensors[name] = t.tensor;
    else errors.push(`input "${name}": ${t.error}`);
  }
  if (errors.length > 0) return { ok: false, error: errors.join('; ') };
  if (Object.keys(tensors).length === 0) return { ok: false, error: 'no tensors in JSON' };
  return { ok: true, tensors, named: true };
}

function inferDims(a: unknown): number[] | null {
  if (!Array.isArray(a)) return typeof a === 'number' || typeof a === 'boolean' ? [] : null;
  if (a.length === 0) return [0];
  const inner = inferDims(a[0]);
  if (!inner) return null;
  for (const x of a) {
    const d = inferDims(x);
    if (!d || d.join() !== inner.join()) return null;
  }
  return [a.length, ...inner];
}

function build(dtype: DType, dims: readonly number[], data: readonly unknown[]): JsonTensorResult {
  if (elementCount(dims) !== data.length) {
    return {
      ok: false,
      error: `dims [${dims.join(', ')}] need ${elementCount(dims)} values, got ${data.length}`,
    };
  }
  const nums: number[] = [];
  for (const x of data) {
    const n = typeof x === 'boolean' ? Number(x) : x;
    if (typeof n !== 'number' || !Number.isFinite(n)) {
      return { ok: false, error: `values must be numbers, got ${JSON.stringify(x)}` };
    }
    nums.push(n);
  }
  const range = RANGE[dtype];
  if (range) {
    const bad = nums.find((n) => !Number.isInteger(n) || n < range[0] || n > range[1]);
    if (bad !== undefined) {
      return {
        ok: false,
        error: `${dtype} values must be integers in [${range[0]}, ${range[1]}], got ${bad}`,
      };
    }
  }
  return { ok: true, tensor: tensorFrom(dtype, dims, typed(dtype, nums)) };
}

function typed(dtype: DType, nums: readonly number[]): ArrayBufferView {
  switch (dtype) {
    case 'float32':
      return Float32Array.from(nums);
    case 'float64':
      return Float64Array.from(nums);
    case 'int32':
      return Int32Array.from(nums);
    case 'int64':
      return BigInt64Array.from(nums, (n) => BigInt(n));
    case 'int8':
      return Int8Array.from(nums);
    case 'uint8':
    case 'bool':
      return Uint8Array.from(nums);
  }
}

import type { DType, Tensor, TensorMap } from '@peergrid/shared';
import { elementCount, isDType, tensorFrom, tensorValues } from '@peergrid/shared';

/**
 * JSON inputs a person can write by hand. Either a nested array (float32,
 * dims inferred) or `{ "dtype": "int64", "dims": [1, 3], "data": [1, 2, 3] }`;
 * a file holds one such value, or an object of them keyed by input name.
 */
export type JsonTensorsResult =
  | { ok: true; tensors: Record<string, Tensor> }
  | { ok: false; error: string };

/** Parses JSON text into named tensors; a bare tensor is named `fallbackName`. */
export function parseJsonTensors(text: string, fallbackName: string): JsonTensorsResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `not valid JSON: ${(e as Error).message}` };
  }
  const single = parseJsonTensor(raw);
  if (single.ok) return { ok: true, tensors: { [fallbackName]: single.tensor } };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, error: single.error };
  }
  const tensors: Record<string, Tensor> = {};
  for (const [name, value] of Object.entries(raw)) {
    const t = parseJsonTensor(value);
    if (!t.ok) return { ok: false, error: `input "${name}": ${t.error}` };
    tensors[name] = t.tensor;
  }
  if (Object.keys(tensors).length === 0) return { ok: false, error: 'no tensors in JSON' };
  return { ok: true, tensors };
}

type One = { ok: true; tensor: Tensor } | { ok: false; error: string };

function parseJsonTensor(raw: unknown): One {
  if (Array.isArray(raw)) {
    const dims = inferDims(raw);
    if (!dims) return { ok: false, error: 'ragged or non-numeric nested array' };
    return build('float32', dims, raw.flat(Number.POSITIVE_INFINITY) as unknown[]);
  }
  if (raw === null || typeof raw !== 'object') return { ok: false, error: 'expected a tensor' };
  const o = raw as Record<string, unknown>;
  if (!('data' in o)) return { ok: false, error: 'expected {dtype, dims, data}' };
  const dtype = o.dtype ?? 'float32';
  if (!isDType(dtype)) return { ok: false, error: `unknown dtype ${String(dtype)}` };
  const data = Array.isArray(o.data) ? (o.data.flat(Number.POSITIVE_INFINITY) as unknown[]) : null;
  if (!data) return { ok: false, error: '"data" must be an array' };
  const dims = o.dims ?? (Array.isArray(o.data) ? inferDims(o.data) : null);
  if (!Array.isArray(dims) || dims.some((d) => !Number.isInteger(d) || d < 0)) {
    return { ok: false, error: '"dims" must be non-negative integers' };
  }
  return build(dtype, dims as number[], data);
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

function build(dtype: DType, dims: number[], data: unknown[]): One {
  if (elementCount(dims) !== data.length) {
    return {
      ok: false,
      error: `dims [${dims.join(', ')}] need ${elementCount(dims)} values, got ${data.length}`,
    };
  }
  if (data.some((x) => typeof x !== 'number' && typeof x !== 'boolean')) {
    return { ok: false, error: 'values must be numbers' };
  }
  const nums = data as number[];
  switch (dtype) {
    case 'float32':
      return { ok: true, tensor: tensorFrom(dtype, dims, Float32Array.from(nums)) };
    case 'float64':
      return { ok: true, tensor: tensorFrom(dtype, dims, Float64Array.from(nums)) };
    case 'int32':
      return { ok: true, tensor: tensorFrom(dtype, dims, Int32Array.from(nums)) };
    case 'int64':
      return {
        ok: true,
        tensor: tensorFrom(
          dtype,
          dims,
          BigInt64Array.from(nums, (n) => BigInt(Math.trunc(n))),
        ),
      };
    case 'int8':
      return { ok: true, tensor: tensorFrom(dtype, dims, Int8Array.from(nums)) };
    case 'uint8':
    case 'bool':
      return { ok: true, tensor: tensorFrom(dtype, dims, Uint8Array.from(nums, Number)) };
  }
}

/** Plain numbers of a tensor (int64 as numbers: exact up to 2^53). */
export function tensorNumbers(t: Tensor): number[] {
  const v = tensorValues(t);
  return Array.from(v as ArrayLike<number | bigint>, Number);
}

/** A tensor as JSON people and scripts can read back with `parseJsonTensors`. */
export function tensorToJson(t: Tensor): { dtype: DType; dims: number[]; data: number[] } {
  return { dtype: t.dtype, dims: [...t.dims], data: tensorNumbers(t) };
}

/** Named outputs as JSON. */
export function tensorMapToJson(m: TensorMap): Record<string, ReturnType<typeof tensorToJson>> {
  const out: Record<string, ReturnType<typeof tensorToJson>> = {};
  for (const [k, t] of Object.entries(m)) out[k] = tensorToJson(t);
  return out;
}

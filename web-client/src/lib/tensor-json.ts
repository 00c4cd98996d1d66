import type { DType, Tensor, TensorMap } from '@peergrid/shared';
import { tensorValues } from '@peergrid/shared';

/**
 * JSON inputs a person can write by hand are read by `@peergrid/shared`
 * (the CLI reads the same files): a nested array, a number, or
 * `{ "dtype": "int64", "dims": [1, 3], "data": [1, 2, 3] }`; a file holds one
 * such value, or an object of them keyed by input name.
 */
export { type JsonTensorsResult, parseJsonTensors } from '@peergrid/shared';

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

/** The `--out` file: results as JSON, one entry per task, tensors as {dtype, dims, data[]}. */
import { type Tensor, type TensorMap, tensorValues } from '@peergrid/shared';
import { writeFileAtomic } from '../store/atomic-file.ts';

export interface JsonTensor {
  readonly dtype: string;
  readonly dims: readonly number[];
  /** int64 values beyond 2^53 are written as strings. */
  readonly data: readonly (number | string)[];
}

export function tensorToJson(t: Tensor): JsonTensor {
  const values = tensorValues(t);
  const data =
    values instanceof BigInt64Array
      ? Array.from(values, (v) => (Number.isSafeInteger(Number(v)) ? Number(v) : String(v)))
      : Array.from(values as ArrayLike<number>);
  return { dtype: t.dtype, dims: t.dims, data };
}

export async function writeResultsFile(
  path: string,
  header: Record<string, unknown>,
  results: ReadonlyMap<string, TensorMap>,
): Promise<void> {
  const tasks: Record<string, Record<string, JsonTensor>> = {};
  for (const [id, outputs] of results) {
    tasks[id] = Object.fromEntries(Object.entries(outputs).map(([n, t]) => [n, tensorToJson(t)]));
  }
  await writeFileAtomic(path, JSON.stringify({ ...header, tasks }));
}

/**
 * Tensors split by rows together: task k takes rows [k·batch, (k+1)·batch)
 * of every named tensor, so row i of `input_ids` stays with row i of
 * `attention_mask`. Task ids are `rows-START` (the first row's index).
 */
import { rowsOf } from '../job/task-source.ts';
import type { TensorMap } from '../tensor.ts';
import type { NamedFeeds } from './check-feeds.ts';

export type SplitResult =
  | { readonly ok: true; readonly tasks: NamedFeeds[] }
  | { readonly ok: false; readonly error: string };

/**
 * Splits `feeds` into tasks of `batch` rows each (the last may be shorter).
 * Without a batch, or one at least the row count, the whole tensors are one
 * task, `all`. Every tensor split must have rows, and as many as the others.
 */
export function splitRows(feeds: TensorMap, batch?: number): SplitResult {
  const names = Object.keys(feeds);
  if (names.length === 0) return { ok: false, error: 'no tensors to split' };
  if (batch === undefined) return { ok: true, tasks: [{ id: 'all', feeds }] };
  if (!Number.isInteger(batch) || batch < 1) {
    return { ok: false, error: `rows per task must be an integer >= 1, got ${batch}` };
  }
  const scalars = names.filter((n) => feeds[n]!.dims.length === 0);
  if (scalars.length > 0) {
    return {
      ok: false,
      error: `${scalars.map((n) => `"${n}"`).join(', ')} ${scalars.length === 1 ? 'is a scalar' : 'are scalars'}: no rows to split`,
    };
  }
  const rows = names.map((n) => feeds[n]!.dims[0] ?? 0);
  if (rows.some((r) => r !== rows[0])) {
    return {
      ok: false,
      error: `split by rows together, the tensors need the same row count; got ${names.map((n, i) => `${n} ${rows[i]}`).join(', ')}`,
    };
  }
  const total = rows[0] ?? 0;
  if (batch >= total) return { ok: true, tasks: [{ id: 'all', feeds }] };
  const tasks: NamedFeeds[] = [];
  for (let start = 0; start < total; start += batch) {
    const part: Record<string, TensorMap[string]> = {};
    for (const n of names) part[n] = rowsOf(feeds[n]!, start, start + batch);
    tasks.push({ id: `rows-${start}`, feeds: part });
  }
  return { ok: true, tasks };
}

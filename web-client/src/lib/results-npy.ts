/**
 * One output of every task of a job, stacked on axis 0 in the job's order
 * (the layout of `stackOutputs`), as an .npy Blob read from the job store a
 * page of task positions at a time: each page's bytes join the Blob at once,
 * so the tab holds one page of outputs, not the job's. For jobs too large to
 * list in memory (a task group of 200,000 rows).
 */
import { encodeNpy, type JobStore, type Tensor } from '@peergrid/shared';

/** Tasks read per store request. Default 1,000. */
export const NPY_PAGE = 1_000;

export type StackedNpy =
  | { readonly ok: true; readonly blob: Blob; readonly tasks: number }
  | { readonly ok: false; readonly error: string };

export async function stackedNpyBlob(o: {
  readonly store: Pick<JobStore, 'getResults'>;
  readonly jobId: string;
  /** Tasks of the job, by position. */
  readonly count: number;
  readonly idAt: (index: number) => string;
  readonly output: string;
  readonly pageSize?: number;
}): Promise<StackedNpy> {
  const page = Math.max(1, o.pageSize ?? NPY_PAGE);
  let first: Tensor | undefined;
  let tail = '';
  let rows = 0;
  const parts: BlobPart[] = [];
  for (let start = 0; start < o.count; start += page) {
    const ids: string[] = [];
    for (let i = start; i < Math.min(o.count, start + page); i++) ids.push(o.idAt(i));
    const got = new Map((await o.store.getResults(o.jobId, ids)).map((r) => [r.taskId, r]));
    const chunk: Uint8Array[] = [];
    for (const id of ids) {
      const t = got.get(id)?.outputs[o.output];
      if (!t) return { ok: false, error: `task ${id} has no stored output ${o.output} yet` };
      if (!first) {
        first = t;
        tail = t.dims.slice(1).join();
      } else if (t.dtype !== first.dtype || t.dims.slice(1).join() !== tail) {
        return {
          ok: false,
          error: `task ${id}'s ${o.output} is ${t.dtype}[${t.dims.join('×')}], not like the first task's ${first.dtype}[${first.dims.join('×')}]: they do not stack`,
        };
      }
      rows += t.dims.length === 0 ? 1 : (t.dims[0] ?? 1);
      chunk.push(t.data);
    }
    // One part per page: its outputs copied together, then let go.
    const bytes = new Uint8Array(chunk.reduce((n, c) => n + c.byteLength, 0));
    let at = 0;
    for (const c of chunk) {
      bytes.set(c, at);
      at += c.byteLength;
    }
    parts.push(new Blob([bytes.buffer as ArrayBuffer]));
  }
  if (!first) return { ok: false, error: 'the job has no tasks' };
  const dims = first.dims.length === 0 ? [rows] : [rows, ...first.dims.slice(1)];
  const header = encodeNpy({ dtype: first.dtype, dims, data: new Uint8Array(0) });
  return {
    ok: true,
    blob: new Blob([header.slice().buffer as ArrayBuffer, ...parts], {
      type: 'application/octet-stream',
    }),
    tasks: o.count,
  };
}

import type { Tensor } from '@peergrid/shared';

/** Rows [start, end) of a tensor along axis 0, as a tensor owning its bytes. */
export function sliceRows(t: Tensor, start: number, end: number): Tensor {
  const rows = t.dims[0] ?? 0;
  const s = Math.max(0, Math.min(start, rows));
  const e = Math.max(s, Math.min(end, rows));
  const rowBytes = rows === 0 ? 0 : t.data.byteLength / rows;
  return {
    dtype: t.dtype,
    dims: [e - s, ...t.dims.slice(1)],
    data: t.data.slice(s * rowBytes, e * rowBytes),
  };
}

import type { Tensor } from '@peergrid/shared';
import type { JobResults } from '../state/runtime.ts';
import { toCsv } from './csv.ts';
import { predictions } from './labels.ts';
import { tensorNumbers, tensorToJson } from './tensor-json.ts';

/** Accepted outputs of every task as one JSON document. */
export function resultsJson(jobId: string, r: JobResults): string {
  return JSON.stringify(
    {
      job: jobId,
      kind: r.kind,
      tasks: r.tasks.map((t) => ({
        task: t.taskId,
        outputs: t.outputs
          ? Object.fromEntries(Object.entries(t.outputs).map(([k, v]) => [k, tensorToJson(v)]))
          : null,
      })),
    },
    null,
    1,
  );
}

/**
 * Results as CSV. Classification jobs get one row per prediction
 * (task, row, label, confidence[, expected]); others one row per output
 * row: task, output, row, then the values of that row.
 */
export function resultsCsv(r: JobResults): string {
  if (r.kind === 'mnist') {
    const rows: (string | number)[][] = [['task', 'row', 'label', 'confidence', 'expected']];
    for (const t of r.tasks) {
      const out = t.outputs && Object.values(t.outputs)[0];
      if (!out) continue;
      predictions(out).forEach((p, i) => {
        rows.push([t.taskId, i, p.label, p.confidence.toFixed(6), t.labels?.[i] ?? '']);
      });
    }
    return toCsv(rows);
  }
  const rows: (string | number)[][] = [['task', 'output', 'row', 'values…']];
  for (const t of r.tasks) {
    for (const [name, out] of Object.entries(t.outputs ?? {})) {
      const values = tensorNumbers(out);
      const width = out.dims.length > 1 ? (out.dims.at(-1) ?? values.length) : values.length;
      for (let row = 0; row * width < Math.max(1, values.length); row++) {
        rows.push([t.taskId, name, row, ...values.slice(row * width, (row + 1) * width)]);
      }
    }
  }
  return toCsv(rows);
}

/**
 * One output across tasks, stacked on axis 0 (tasks in order). Returns null
 * when the tasks' tensors differ in dtype or trailing dims.
 */
export function stackOutputs(tensors: readonly Tensor[]): Tensor | null {
  const first = tensors[0];
  if (!first) return null;
  const tail = first.dims.slice(1).join();
  if (tensors.some((t) => t.dtype !== first.dtype || t.dims.slice(1).join() !== tail)) return null;
  const total = tensors.reduce((n, t) => n + t.data.byteLength, 0);
  const data = new Uint8Array(total);
  let off = 0;
  for (const t of tensors) {
    data.set(t.data, off);
    off += t.data.byteLength;
  }
  const rows = tensors.reduce((n, t) => n + (t.dims[0] ?? 1), 0);
  const dims = first.dims.length === 0 ? [tensors.length] : [rows, ...first.dims.slice(1)];
  return { dtype: first.dtype, dims, data };
}

/** Output names present in every finished task. */
export function outputNames(r: JobResults): string[] {
  const done = r.tasks.filter((t) => t.outputs);
  const first = done[0]?.outputs;
  if (!first) return [];
  return Object.keys(first).filter((k) => done.every((t) => t.outputs && k in t.outputs));
}

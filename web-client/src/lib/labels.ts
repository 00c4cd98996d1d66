import type { Tensor } from '@peergrid/shared';
import { tensorNumbers } from './tensor-json.ts';

/** Per-row prediction from a [N, C] (or [C]) score tensor. */
export interface Prediction {
  readonly label: number;
  /** Softmax probability of the label, 0..1. */
  readonly confidence: number;
}

/** Argmax and softmax confidence for each row of class scores. */
export function predictions(scores: Tensor): Prediction[] {
  const values = tensorNumbers(scores);
  const classes = scores.dims.at(-1) ?? values.length;
  if (classes <= 0) return [];
  const out: Prediction[] = [];
  for (let r = 0; r + classes <= values.length; r += classes) {
    const row = values.slice(r, r + classes);
    let best = 0;
    for (let i = 1; i < row.length; i++) if ((row[i] ?? 0) > (row[best] ?? 0)) best = i;
    const max = row[best] ?? 0;
    const exps = row.map((x) => Math.exp(x - max));
    const sum = exps.reduce((a, b) => a + b, 0);
    out.push({ label: best, confidence: (exps[best] ?? 0) / sum });
  }
  return out;
}

/** Accuracy of predictions against known labels (0..1); null when there are no labels. */
export function accuracy(preds: readonly Prediction[], truth: readonly number[]): number | null {
  const n = Math.min(preds.length, truth.length);
  if (n === 0) return null;
  let ok = 0;
  for (let i = 0; i < n; i++) if (preds[i]?.label === truth[i]) ok++;
  return ok / n;
}

/**
 * Text from a CTC recognizer (PP-OCRv4's: [1, T, C] class probabilities per
 * step): greedy decoding with a key file, one character per line, class 0
 * the blank, classes 1…n the keys and C − 1 a space. Pure.
 */
import { type Tensor, tensorValues } from '../tensor.ts';

/** A key file's characters, one per line (a last newline ends the file, it adds no key). */
export function parseKeyFile(text: string): string[] {
  const body = text.replace(/\r?\n$/, '');
  return body === '' ? [] : body.split(/\r?\n/);
}

/** Greedy CTC over one output [1, T, C] (or [T, C]): repeats collapsed, blanks (0) dropped, trimmed. */
export function ctcDecode(probs: Tensor, keys: readonly string[]): string {
  const steps = probs.dims.at(-2) ?? 0;
  const classes = probs.dims.at(-1) ?? 0;
  if (probs.dtype !== 'float32' || probs.dims.length < 2) {
    throw new TypeError(
      `a recognizer output is float32 [1, T, C], got ${probs.dtype} [${probs.dims.join(', ')}]`,
    );
  }
  const p = tensorValues(probs) as Float32Array;
  let text = '';
  let prev = -1;
  for (let t = 0; t < steps; t++) {
    let best = 0;
    for (let c = 1; c < classes; c++)
      if ((p[t * classes + c] ?? 0) > (p[t * classes + best] ?? 0)) best = c;
    if (best !== prev && best !== 0) text += keys[best - 1] ?? ' ';
    prev = best;
  }
  return text.trim();
}

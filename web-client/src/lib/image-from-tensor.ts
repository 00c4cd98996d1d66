import type { Tensor } from '@peergrid/shared';
import { tensorNumbers } from './tensor-json.ts';

/**
 * Images held by an input tensor, as RGBA for drawing: [N, 784] / [N, 1, H, W]
 * grayscale or [N, 3, H, W] colour, min–max scaled per image so any
 * normalisation the model used still draws as a picture. `gray` averages colour
 * channels (for inputs in an unknown channel order, e.g. BGR).
 */
export function tensorImages(
  t: Tensor,
  opts: { readonly gray?: boolean } = {},
): { width: number; height: number; rgba: Uint8ClampedArray }[] {
  const v = tensorNumbers(t);
  let n: number;
  let c: number;
  let h: number;
  let w: number;
  if (t.dims.length === 4) {
    [n, c, h, w] = t.dims as [number, number, number, number];
  } else if (t.dims.length === 2 && t.dims[1] === 784) {
    [n, c, h, w] = [t.dims[0] ?? 1, 1, 28, 28];
  } else if (t.dims.length === 3) {
    [n, c, h, w] = [t.dims[0] ?? 1, 1, t.dims[1] ?? 0, t.dims[2] ?? 0];
  } else return [];
  if (c !== 1 && c !== 3) return [];
  const plane = h * w;
  const out = [];
  for (let i = 0; i < n; i++) {
    const base = i * c * plane;
    // Channel values, or their mean when drawing gray; then min–max to 0..255.
    const chans = opts.gray && c === 3 ? 1 : c;
    const px = (ch: number, p: number): number =>
      chans === c
        ? (v[base + ch * plane + p] ?? 0)
        : ((v[base + p] ?? 0) + (v[base + plane + p] ?? 0) + (v[base + 2 * plane + p] ?? 0)) / 3;
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let ch = 0; ch < chans; ch++) {
      for (let p = 0; p < plane; p++) {
        const x = px(ch, p);
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
    }
    const scale = hi > lo ? 255 / (hi - lo) : 0;
    const rgba = new Uint8ClampedArray(plane * 4);
    for (let p = 0; p < plane; p++) {
      for (let ch = 0; ch < 3; ch++) rgba[p * 4 + ch] = (px(chans === 1 ? 0 : ch, p) - lo) * scale;
      rgba[p * 4 + 3] = 255;
    }
    out.push({ width: w, height: h, rgba });
  }
  return out;
}

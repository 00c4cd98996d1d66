/**
 * Post-processing of PaddleOCR's text detector: its output is a probability
 * map [1, 1, H, W]; text boxes are the connected components of the map over a
 * threshold, scored by their mean probability and grown back ("unclipped")
 * the way DB post-processing does, since the model predicts shrunk regions.
 */
import { type Tensor, tensorValues } from '@peergrid/shared';

/** An axis-aligned text box in source-image pixels. */
export interface TextBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** Mean probability inside the component. */
  readonly score: number;
}

/** Options of {@link probabilityMapToBoxes}; defaults are PaddleOCR's DB post-process values. */
export interface BoxOptions {
  /** Pixel threshold. Default 0.3. */
  readonly threshold?: number;
  /** Minimum mean score of a box. Default 0.6. */
  readonly boxThreshold?: number;
  /** Growth ratio of the unclip step. Default 1.5. */
  readonly unclipRatio?: number;
  /** Components with fewer pixels are dropped. Default 9. */
  readonly minPixels?: number;
  /** Source pixels per map pixel. Default 1. */
  readonly scaleX?: number;
  readonly scaleY?: number;
}

/** Finds text boxes in a detector output; the map must be float32 [1, 1, H, W]. */
export function probabilityMapToBoxes(map: Tensor, options: BoxOptions = {}): TextBox[] {
  const [, , h = 0, w = 0] = map.dims;
  if (map.dtype !== 'float32' || map.dims.length !== 4)
    throw new TypeError('expected a float32 [1,1,H,W] map');
  const prob = tensorValues(map) as Float32Array;
  const threshold = options.threshold ?? 0.3;
  const seen = new Uint8Array(w * h);
  const boxes: TextBox[] = [];
  const stack: number[] = [];
  for (let start = 0; start < w * h; start++) {
    if (seen[start] || (prob[start] ?? 0) <= threshold) continue;
    let [minX, minY, maxX, maxY, sum, count] = [w, h, 0, 0, 0, 0];
    seen[start] = 1;
    stack.push(start);
    while (stack.length > 0) {
      const i = stack.pop() as number;
      const x = i % w;
      const y = (i - x) / w;
      minX = Math.min(minX, x);
      maxX = Math.max(maxX, x);
      minY = Math.min(minY, y);
      maxY = Math.max(maxY, y);
      sum += prob[i] ?? 0;
      count++;
      const next = [
        x > 0 ? i - 1 : -1,
        x < w - 1 ? i + 1 : -1,
        y > 0 ? i - w : -1,
        y < h - 1 ? i + w : -1,
      ];
      for (const n of next) {
        if (n >= 0 && !seen[n] && (prob[n] ?? 0) > threshold) {
          seen[n] = 1;
          stack.push(n);
        }
      }
    }
    const score = sum / count;
    if (count < (options.minPixels ?? 9) || score < (options.boxThreshold ?? 0.6)) continue;
    const bw = maxX - minX + 1;
    const bh = maxY - minY + 1;
    const grow = (bw * bh * (options.unclipRatio ?? 1.5)) / (2 * (bw + bh));
    const sx = options.scaleX ?? 1;
    const sy = options.scaleY ?? 1;
    const x0 = Math.max(0, minX - grow);
    const y0 = Math.max(0, minY - grow);
    const x1 = Math.min(w, maxX + 1 + grow);
    const y1 = Math.min(h, maxY + 1 + grow);
    boxes.push({ x: x0 * sx, y: y0 * sy, width: (x1 - x0) * sx, height: (y1 - y0) * sy, score });
  }
  return boxes;
}

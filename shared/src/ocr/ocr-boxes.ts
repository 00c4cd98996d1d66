/**
 * Post-processing of PaddleOCR's text detector: its output is a probability
 * map [1, 1, H, W]; text boxes are the connected components of the map over a
 * threshold (`findTextRegions`), scored by their mean probability and grown
 * back ("unclipped") the way DB post-processing does, since the model
 * predicts shrunk regions. Pure: runs in Node and the browser.
 */
import type { Tensor } from '../tensor.ts';
import { findTextRegions } from './text-boxes.ts';

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
  const boxes: TextBox[] = [];
  for (const r of findTextRegions(map, options.threshold ?? 0.3)) {
    if (r.pixels < (options.minPixels ?? 9) || r.score < (options.boxThreshold ?? 0.6)) continue;
    const bw = r.maxX - r.minX + 1;
    const bh = r.maxY - r.minY + 1;
    const grow = (bw * bh * (options.unclipRatio ?? 1.5)) / (2 * (bw + bh));
    const sx = options.scaleX ?? 1;
    const sy = options.scaleY ?? 1;
    const x0 = Math.max(0, r.minX - grow);
    const y0 = Math.max(0, r.minY - grow);
    const x1 = Math.min(w, r.maxX + 1 + grow);
    const y1 = Math.min(h, r.maxY + 1 + grow);
    boxes.push({
      x: x0 * sx,
      y: y0 * sy,
      width: (x1 - x0) * sx,
      height: (y1 - y0) * sy,
      score: r.score,
    });
  }
  return boxes;
}

import type { Tensor } from '@peergrid/shared';
import { tensorValues } from '@peergrid/shared';

/** An axis-aligned box in the coordinates of the original image. */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  /** Mean probability inside the region, 0..1. */
  readonly score: number;
}

/** Options for turning a text-probability map into boxes. */
export interface BoxOptions {
  /** Pixels above this probability are text. Default 0.3 (PP-OCR's). */
  readonly threshold?: number;
  /** Regions with a lower mean probability are dropped. Default 0.5. */
  readonly minScore?: number;
  /** Regions smaller than this many map pixels are dropped. Default 12. */
  readonly minArea?: number;
  /** Factors from map to image coordinates. Default 1. */
  readonly scaleX?: number;
  readonly scaleY?: number;
}

/**
 * Text boxes from a detection model's probability map (`[1, 1, H, W]` float32,
 * as PP-OCR's DB head gives): threshold, 4-connected regions, bounding boxes.
 */
export function textBoxes(map: Tensor, opts: BoxOptions = {}): Box[] {
  const h = map.dims.at(-2) ?? 0;
  const w = map.dims.at(-1) ?? 0;
  const p = tensorValues(map) as Float32Array;
  const threshold = opts.threshold ?? 0.3;
  const minScore = opts.minScore ?? 0.5;
  const minArea = opts.minArea ?? 12;
  const sx = opts.scaleX ?? 1;
  const sy = opts.scaleY ?? 1;
  const seen = new Uint8Array(w * h);
  const stack: number[] = [];
  const boxes: Box[] = [];
  for (let start = 0; start < w * h; start++) {
    if (seen[start] || (p[start] ?? 0) <= threshold) continue;
    let x0 = w;
    let y0 = h;
    let x1 = -1;
    let y1 = -1;
    let area = 0;
    let sum = 0;
    seen[start] = 1;
    stack.push(start);
    while (stack.length > 0) {
      const i = stack.pop() as number;
      const x = i % w;
      const y = (i - x) / w;
      area++;
      sum += p[i] ?? 0;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      const next = [
        x > 0 ? i - 1 : -1,
        x < w - 1 ? i + 1 : -1,
        y > 0 ? i - w : -1,
        y < h - 1 ? i + w : -1,
      ];
      for (const j of next) {
        if (j >= 0 && !seen[j] && (p[j] ?? 0) > threshold) {
          seen[j] = 1;
          stack.push(j);
        }
      }
    }
    const score = sum / area;
    if (area < minArea || score < minScore) continue;
    // DB maps shrink text regions; grow the box back a little (PP-OCR unclips by ~1.5x area).
    const padX = Math.max(1, (x1 - x0 + 1) * 0.1);
    const padY = Math.max(1, (y1 - y0 + 1) * 0.3);
    const bx = Math.max(0, x0 - padX);
    const by = Math.max(0, y0 - padY);
    boxes.push({
      x: bx * sx,
      y: by * sy,
      w: (Math.min(w, x1 + 1 + padX) - bx) * sx,
      h: (Math.min(h, y1 + 1 + padY) - by) * sy,
      score,
    });
  }
  return boxes;
}

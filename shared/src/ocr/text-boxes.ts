/**
 * The shared core of text-detector post-processing (PaddleOCR's DB head gives
 * a probability map [1, 1, H, W]): the 4-connected regions of the map above a
 * threshold, with their bounding boxes and mean probability. How a region is
 * grown back into a box ("unclip") stays with each caller.
 */
import { type Tensor, tensorValues } from '../tensor.ts';

/** A 4-connected region of map pixels above the threshold, in map pixels (max inclusive). */
export interface TextRegion {
  readonly minX: number;
  readonly minY: number;
  readonly maxX: number;
  readonly maxY: number;
  /** Pixels in the region. */
  readonly pixels: number;
  /** Mean probability inside the region, 0..1. */
  readonly score: number;
}

/**
 * Finds the regions of a float32 probability map whose last two dims are
 * [H, W], in row-major order of each region's first pixel. A pixel belongs to
 * text when its probability is strictly above `threshold`.
 */
export function findTextRegions(map: Tensor, threshold: number): TextRegion[] {
  const h = map.dims.at(-2) ?? 0;
  const w = map.dims.at(-1) ?? 0;
  const p = tensorValues(map) as Float32Array;
  const seen = new Uint8Array(w * h);
  const stack: number[] = [];
  const regions: TextRegion[] = [];
  for (let start = 0; start < w * h; start++) {
    if (seen[start] || (p[start] ?? 0) <= threshold) continue;
    let [minX, minY, maxX, maxY, sum, pixels] = [w, h, -1, -1, 0, 0];
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
      sum += p[i] ?? 0;
      pixels++;
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
    regions.push({ minX, minY, maxX, maxY, pixels, score: sum / pixels });
  }
  return regions;
}

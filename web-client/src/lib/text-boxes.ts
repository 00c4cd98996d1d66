import type { Tensor } from '@peergrid/shared';
import { findTextRegions } from '@peergrid/shared';

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
  const minScore = opts.minScore ?? 0.5;
  const minArea = opts.minArea ?? 12;
  const sx = opts.scaleX ?? 1;
  const sy = opts.scaleY ?? 1;
  const boxes: Box[] = [];
  for (const r of findTextRegions(map, opts.threshold ?? 0.3)) {
    if (r.pixels < minArea || r.score < minScore) continue;
    // DB maps shrink text regions; grow the box back a little (PP-OCR unclips by ~1.5x area).
    const padX = Math.max(1, (r.maxX - r.minX + 1) * 0.1);
    const padY = Math.max(1, (r.maxY - r.minY + 1) * 0.3);
    const bx = Math.max(0, r.minX - padX);
    const by = Math.max(0, r.minY - padY);
    boxes.push({
      x: bx * sx,
      y: by * sy,
      w: (Math.min(w, r.maxX + 1 + padX) - bx) * sx,
      h: (Math.min(h, r.maxY + 1 + padY) - by) * sy,
      score: r.score,
    });
  }
  return boxes;
}

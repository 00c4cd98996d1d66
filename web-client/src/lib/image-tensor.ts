import type { Tensor } from '@peergrid/shared';
import { tensorFrom } from '@peergrid/shared';

/** How an image becomes a model input. */
export interface ImageLayout {
  /** 1 = grayscale (mean of RGB), 3 = RGB. Default 3. */
  readonly channels?: 1 | 3;
  /** Per-channel mean subtracted after scaling to 0..1. Default 0. */
  readonly mean?: readonly number[];
  /** Per-channel divisor applied after the mean. Default 1. */
  readonly std?: readonly number[];
  /** Invert (1 - v) before normalising, for white-on-black models like MNIST. Default false. */
  readonly invert?: boolean;
  /** Channel order BGR instead of RGB (models trained on OpenCV images, e.g. PaddleOCR). Default false. */
  readonly bgr?: boolean;
}

/** RGBA pixels (as ImageData holds them) to a float32 NCHW tensor [1, C, H, W]. */
export function rgbaToTensor(
  rgba: Uint8ClampedArray | Uint8Array,
  width: number,
  height: number,
  layout: ImageLayout = {},
): Tensor {
  const c = layout.channels ?? 3;
  const plane = width * height;
  const out = new Float32Array(c * plane);
  for (let i = 0; i < plane; i++) {
    const r = (rgba[i * 4] ?? 0) / 255;
    const g = (rgba[i * 4 + 1] ?? 0) / 255;
    const b = (rgba[i * 4 + 2] ?? 0) / 255;
    const px = c === 1 ? [(r + g + b) / 3] : layout.bgr ? [b, g, r] : [r, g, b];
    for (let k = 0; k < c; k++) {
      let v = px[k] ?? 0;
      if (layout.invert) v = 1 - v;
      out[k * plane + i] = (v - (layout.mean?.[k] ?? 0)) / (layout.std?.[k] ?? 1);
    }
  }
  return tensorFrom('float32', [1, c, height, width], out);
}

/** A size that fits `maxSide` and is a multiple of `multiple` on both sides (detection models). */
export function fitSize(
  width: number,
  height: number,
  maxSide: number,
  multiple = 32,
): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  const round = (v: number) => Math.max(multiple, Math.round((v * scale) / multiple) * multiple);
  return { width: round(width), height: round(height) };
}

/** Grayscale 0..255 pixels (e.g. an MNIST digit) to RGBA for drawing. */
export function grayToRgba(gray: ArrayLike<number>, scale = 1): Uint8ClampedArray {
  const out = new Uint8ClampedArray(gray.length * 4);
  for (let i = 0; i < gray.length; i++) {
    const v = Math.max(0, Math.min(255, (gray[i] ?? 0) * scale));
    out[i * 4] = v;
    out[i * 4 + 1] = v;
    out[i * 4 + 2] = v;
    out[i * 4 + 3] = 255;
  }
  return out;
}

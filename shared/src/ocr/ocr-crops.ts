/**
 * From a detector's probability map to the recognizer's input, as PaddleOCR
 * does it for PP-OCRv4: boxes in the source image's pixels (whole pixels,
 * inside the image), in reading order (by line, top to bottom, then left to
 * right), each box cut from the image, resized to the recognizer's height and
 * padded to its width, BGR, (x/255 − 0.5)/0.5, NCHW float32 [K, 3, H, W].
 * Images are tensors: uint8 [H, W, 3] (RGB) or [H, W, 4] (RGBA), row-major,
 * as `.npz` files carry them. Pure: runs in Node and the browser.
 */
import { type Tensor, tensorFrom, tensorValues } from '../tensor.ts';
import { type BoxOptions, probabilityMapToBoxes } from './ocr-boxes.ts';

/** PP-OCRv4's recognizer input: height 48, every crop padded to width 320. */
export const REC_INPUT_SIZE = { height: 48, width: 320 } as const;

/** A crop's place: which image, and its box in the image's pixels. */
export interface CropBox {
  readonly image: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** An image tensor's size, or a string saying why it is not an image. */
export function imageSize(
  image: Tensor,
): { width: number; height: number; channels: 3 | 4 } | string {
  const [height = 0, width = 0, channels = 0] = image.dims;
  if (image.dtype !== 'uint8' || image.dims.length !== 3 || (channels !== 3 && channels !== 4)) {
    return `an image is uint8 [H, W, 3] (RGB) or [H, W, 4] (RGBA), got ${image.dtype} [${image.dims.join(', ')}]`;
  }
  if (width === 0 || height === 0) return 'an image has no pixels';
  return { width, height, channels };
}

/**
 * The text boxes of one image from its detection map [1, 1, h, w]: the map
 * is scaled to the image (image width / w, image height / h), boxes are
 * whole pixels inside the image, in reading order.
 */
export function cropBoxes(
  name: string,
  image: Tensor,
  map: Tensor,
  options: Omit<BoxOptions, 'scaleX' | 'scaleY'> = {},
): CropBox[] {
  const size = imageSize(image);
  if (typeof size === 'string') throw new TypeError(`image ${name}: ${size}`);
  const [, , mh = 0, mw = 0] = map.dims;
  const found = probabilityMapToBoxes(map, {
    ...options,
    scaleX: size.width / mw,
    scaleY: size.height / mh,
  })
    .map((b) => {
      const x = Math.max(0, Math.floor(b.x));
      const y = Math.max(0, Math.floor(b.y));
      return {
        image: name,
        x,
        y,
        width: Math.min(size.width - x, Math.ceil(b.width)),
        height: Math.min(size.height - y, Math.ceil(b.height)),
      };
    })
    .filter((b) => b.width > 0 && b.height > 0);
  // A line's boxes share most of their height: sort by line, then left to right.
  found.sort((a, b) =>
    Math.abs(a.y - b.y) < Math.min(a.height, b.height) / 2 ? a.x - b.x : a.y - b.y,
  );
  return found;
}

/**
 * The recognizer's input for `boxes`: each cut from its image (`images` by
 * name), resized (nearest pixel) to `size.height` keeping its aspect, at most
 * `size.width` wide, zero-padded to it; float32 [K, 3, H, W].
 */
export function recCrops(
  images: ReadonlyMap<string, Tensor>,
  boxes: readonly CropBox[],
  size: { readonly height: number; readonly width: number } = REC_INPUT_SIZE,
): Tensor {
  const { height: H, width: W } = size;
  const data = new Float32Array(boxes.length * 3 * H * W);
  boxes.forEach((b, k) => {
    const image = images.get(b.image);
    if (!image) throw new Error(`crop ${k}: no image ${b.image}`);
    const s = imageSize(image);
    if (typeof s === 'string') throw new TypeError(`image ${b.image}: ${s}`);
    const px = tensorValues(image) as Uint8Array;
    const rw = Math.max(1, Math.min(W, Math.ceil((H * b.width) / b.height)));
    for (let y = 0; y < H; y++) {
      const sy = Math.min(s.height - 1, Math.floor(b.y + ((y + 0.5) * b.height) / H));
      for (let x = 0; x < rw; x++) {
        const sx = Math.min(s.width - 1, Math.floor(b.x + ((x + 0.5) * b.width) / rw));
        for (let c = 0; c < 3; c++) {
          const v = (px[(sy * s.width + sx) * s.channels + (2 - c)] ?? 0) / 255; // BGR
          data[((k * 3 + c) * H + y) * W + x] = (v - 0.5) / 0.5;
        }
      }
    }
  });
  return tensorFrom('float32', [boxes.length, 3, H, W], data);
}

/**
 * PNG/JPEG images → tensors in the layout PaddleOCR's text detector expects:
 * NCHW float32 [1, 3, H, W], BGR channel order, (x/255 − mean)/std with the
 * ImageNet mean/std, H and W resized (bilinear) to multiples of 32 with the
 * longer side capped, as PaddleOCR's DetResizeForTest (limit_type 'max') does.
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { type Tensor, tensorFrom } from '@peergrid/shared';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/** Decoded pixels, RGBA 8-bit, row-major. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Options of {@link imageToDetTensor}. */
export interface DetTensorOptions {
  /** Longer side is scaled down to at most this. Default 960 (PaddleOCR det_limit_side_len). */
  readonly limitSideLen?: number;
}

/** A detector input and how it maps back to the source image. */
export interface DetInput {
  readonly tensor: Tensor;
  readonly width: number;
  readonly height: number;
  /** Source pixels per tensor pixel, per axis. */
  readonly scaleX: number;
  readonly scaleY: number;
}

// PaddleOCR reads BGR (cv2) and applies these per channel in that order.
const MEAN = [0.485, 0.456, 0.406] as const;
const STD = [0.229, 0.224, 0.225] as const;
const BGR = [2, 1, 0] as const;

export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg'];

/** Decodes PNG or JPEG bytes (sniffed by signature); null when neither. */
export function decodeImage(bytes: Uint8Array): RgbaImage | null {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    if (bytes[0] === 0x89 && bytes[1] === 0x50) {
      const png = PNG.sync.read(buf);
      return { width: png.width, height: png.height, data: new Uint8Array(png.data) };
    }
    if (bytes[0] === 0xff && bytes[1] === 0xd8) {
      const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true });
      return { width: img.width, height: img.height, data: img.data };
    }
  } catch {
    return null;
  }
  return null;
}

/** Encodes RGBA pixels as PNG. */
export function encodePng(img: RgbaImage): Uint8Array {
  const png = new PNG({ width: img.width, height: img.height });
  png.data = Buffer.from(img.data);
  return new Uint8Array(PNG.sync.write(png));
}

function roundTo32(x: number): number {
  return Math.max(32, Math.round(x / 32) * 32);
}

/** Resizes (bilinear, pixel centres aligned like cv2.INTER_LINEAR) and normalizes into NCHW BGR float32. */
export function imageToDetTensor(img: RgbaImage, options: DetTensorOptions = {}): DetInput {
  const limit = options.limitSideLen ?? 960;
  const ratio =
    Math.max(img.width, img.height) > limit ? limit / Math.max(img.width, img.height) : 1;
  const w = roundTo32(img.width * ratio);
  const h = roundTo32(img.height * ratio);
  const sx = img.width / w;
  const sy = img.height / h;
  const out = new Float32Array(3 * h * w);
  const px = (x: number, y: number, c: number) => img.data[(y * img.width + x) * 4 + c] ?? 0;
  for (let y = 0; y < h; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), img.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, img.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), img.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, img.width - 1);
      const wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const src = BGR[c] as number;
        const top = px(x0, y0, src) * (1 - wx) + px(x1, y0, src) * wx;
        const bottom = px(x0, y1, src) * (1 - wx) + px(x1, y1, src) * wx;
        const v = (top * (1 - wy) + bottom * wy) / 255;
        out[(c * h + y) * w + x] = (v - (MEAN[c] as number)) / (STD[c] as number);
      }
    }
  }
  return {
    tensor: tensorFrom('float32', [1, 3, h, w], out),
    width: img.width,
    height: img.height,
    scaleX: sx,
    scaleY: sy,
  };
}

/** Loads every PNG/JPEG in a folder (sorted by name) as detector inputs. Throws on an undecodable file. */
export async function loadImageFolder(
  dir: string,
  options: DetTensorOptions = {},
): Promise<{ readonly name: string; readonly input: DetInput }[]> {
  const names = (await readdir(dir))
    .filter((n) => IMAGE_EXTENSIONS.includes(extname(n).toLowerCase()))
    .sort();
  const out = [];
  for (const name of names) {
    const img = decodeImage(await readFile(join(dir, name)));
    if (!img) throw new Error(`${name}: not a decodable PNG or JPEG`);
    out.push({ name, input: imageToDetTensor(img, options) });
  }
  return out;
}

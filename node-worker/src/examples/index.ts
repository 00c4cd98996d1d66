/**
 * The examples under examples/ at the repo root: each folder holds a job
 * manifest (job.json), its models and inputs, and `reference.npz`, the
 * expected outputs computed without ONNX Runtime, keyed as the CLI's
 * `--out results.npz` keys its entries (`TASK/OUTPUT`). examples/ocr is two
 * manifests with a local step between (see ocr-example.ts); its reference
 * is the text of the same pipeline run locally (reference.json).
 * `writeExample` regenerates a folder; the files are deterministic (seeded).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { encodeNpy, encodeNpz, rowsOf, type TensorMap } from '@peergrid/shared';
import {
  ENCODER,
  encoderInputs,
  encoderManifest,
  encoderModel,
  encoderReference,
} from './encoder-example.ts';
import {
  OCR_IMAGES,
  OCR_MODELS,
  ocrAsset,
  ocrDetManifest,
  ocrImages,
  ocrPipeline,
  ocrRecManifest,
  rgbTensor,
} from './ocr-example.ts';
import { runPipelineLocally } from './ocr-pipeline.ts';
import { EXAMPLES_DIR, referenceEntries } from './reference-entries.ts';
import {
  threeStageInput,
  threeStageManifest,
  threeStageModels,
  threeStageReference,
} from './three-stage-example.ts';

export { EXAMPLES_DIR, referenceEntries } from './reference-entries.ts';

export const EXAMPLES = ['encoder', 'three-stage', 'ocr'] as const;
export type ExampleName = (typeof EXAMPLES)[number];

/** An example's files by name (relative to its folder). */
export function exampleFiles(name: ExampleName): Record<string, Uint8Array | string> {
  const json = (m: unknown) => `${JSON.stringify(m, null, 2)}\n`;
  if (name === 'encoder') {
    const inputs = encoderInputs();
    const all = encoderReference(inputs);
    const byTask = new Map<string, TensorMap>();
    for (let i = 0; i * ENCODER.rowsPerTask < ENCODER.rows; i++) {
      const r = ENCODER.rowsPerTask;
      byTask.set(`embed-${i}`, { embedding: rowsOf(all, i * r, (i + 1) * r) });
    }
    return {
      'job.json': json(encoderManifest()),
      'encoder.onnx': encoderModel(),
      'inputs.npz': encodeNpz(inputs),
      'reference.npz': encodeNpz(referenceEntries(byTask)),
    };
  }
  if (name === 'ocr') {
    const images = ocrImages();
    const inputs = Object.fromEntries(OCR_IMAGES.map((n) => [n, images.get(n)!.input.tensor]));
    const pixels = Object.fromEntries(OCR_IMAGES.map((n) => [n, rgbTensor(images.get(n)!.image)]));
    const asset = (file: string) => relative(join(EXAMPLES_DIR, 'ocr'), ocrAsset(file));
    return {
      'pipeline.json': json(ocrPipeline(asset(OCR_MODELS.keys))),
      'det.json': json(ocrDetManifest(asset(OCR_MODELS.det))),
      'rec.json': json(ocrRecManifest(asset(OCR_MODELS.rec))),
      'det-inputs.npz': encodeNpz(inputs, { compress: true }),
      'images.npz': encodeNpz(pixels, { compress: true }),
    };
  }
  const x = threeStageInput();
  const models = threeStageModels();
  return {
    'job.json': json(threeStageManifest()),
    'features.onnx': models.features,
    'project.onnx': models.project,
    'combine.onnx': models.combine,
    'x.npy': encodeNpy(x),
    'reference.npz': encodeNpz(referenceEntries(threeStageReference(x))),
  };
}

/** Writes an example's files into `dir` (default: its folder under examples/). */
export async function writeExample(
  name: ExampleName,
  dir = join(EXAMPLES_DIR, name),
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files = exampleFiles(name);
  for (const [file, data] of Object.entries(files)) await writeFile(join(dir, file), data);
  const written = Object.keys(files).map((f) => join(dir, f));
  if (name === 'ocr') {
    // The reference text: the same pipeline on this machine's onnxruntime-node.
    const text = await runPipelineLocally(join(dir, 'pipeline.json'));
    await writeFile(join(dir, 'reference.json'), `${JSON.stringify(text, null, 2)}\n`);
    written.push(join(dir, 'reference.json'));
  }
  return written;
}

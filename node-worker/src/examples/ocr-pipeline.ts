/**
 * The OCR example's pipeline: det.json through a runner, crops from its
 * results, rec.json through the runner, text. The runner is anything that
 * runs a manifest and writes its results as an .npz: `peergrid run` on a
 * grid, the page, or {@link localManifestRunner} (the reference).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeNpz, encodeNpz, type Tensor } from '@peergrid/shared';
import { loadManifestFile } from '../cli/manifest-file.ts';
import { specReference } from '../cli/spec-reference.ts';
import { createNodeExecutor } from '../exec/node-executor.ts';
import {
  detMaps,
  OCR_MODELS,
  OCR_REC_OUTPUT,
  ocrAsset,
  ocrCrops,
  ocrImages,
  ocrKeys,
  ocrRecManifest,
  ocrText,
} from './ocr-example.ts';
import { EXAMPLES_DIR, referenceEntries } from './reference-entries.ts';

/** Runs a manifest and writes its results to `out` (.npz, `TASK/OUTPUT` entries). */
export type ManifestRunner = (manifest: string, out: string) => Promise<void>;

export const OCR_EXAMPLE_DIR = join(EXAMPLES_DIR, 'ocr');

export async function readNpz(path: string): Promise<Record<string, Tensor>> {
  const r = decodeNpz(new Uint8Array(await readFile(path)));
  if (!r.ok) throw new Error(`${path}: ${r.error}`);
  return r.tensors;
}

/**
 * Detection, crops, recognition, text. `work` gets det.npz, crops.npz,
 * rec.json and rec.npz. Returns the text per image in reading order.
 */
export async function runOcrPipeline(
  run: ManifestRunner,
  work: string,
  say: (line: string) => void = () => {},
): Promise<Record<string, string[]>> {
  await mkdir(work, { recursive: true });
  const det = join(work, 'det.npz');
  await run(join(OCR_EXAMPLE_DIR, 'det.json'), det);
  const images = ocrImages();
  const { crops, boxes } = ocrCrops(images, detMaps(await readNpz(det)));
  say(`ocr: ${boxes.length} text boxes in ${images.size} images → ${join(work, 'rec.json')}`);
  await writeFile(join(work, 'crops.npz'), encodeNpz({ x: crops }, { compress: true }));
  await writeFile(join(work, 'boxes.json'), `${JSON.stringify(boxes, null, 1)}\n`);
  const recManifest = join(work, 'rec.json');
  await writeFile(recManifest, JSON.stringify(ocrRecManifest(ocrAsset(OCR_MODELS.rec)), null, 2));
  const rec = join(work, 'rec.npz');
  await run(recManifest, rec);
  const out = await readNpz(rec);
  return ocrText(boxes, (k) => out[`rec-${k}/${OCR_REC_OUTPUT}`], ocrKeys());
}

/** Runs a manifest on this machine's onnxruntime-node (cpu): the reference. */
export function localManifestRunner(): { run: ManifestRunner; close: () => Promise<void> } {
  const executor = createNodeExecutor({ backend: 'cpu', concurrency: 1 });
  return {
    run: async (manifest, out) => {
      const { spec } = await loadManifestFile(manifest);
      const results = await specReference(spec, executor, { backend: 'cpu' });
      await writeFile(out, encodeNpz(referenceEntries(results)));
    },
    close: () => executor.close(),
  };
}

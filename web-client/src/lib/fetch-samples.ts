import type { TaskSpec, Tensor } from '@peergrid/shared';
import type { JobDraft } from '../state/runtime.ts';
import { decodeImage } from './decode-image.ts';
import { fitSize, rgbaToTensor } from './image-tensor.ts';
import { parseNpy } from './npy.ts';
import {
  MNIST_FILES,
  mnistTasks,
  OCR_FILES,
  OCR_MAX_SIDE,
  OCR_MEAN,
  OCR_STD,
  SAMPLE_BASE,
  SAMPLE_POLICY,
  singleModelSpec,
} from './samples.ts';
import { sha256Hex } from './sha256.ts';

async function fetchBytes(name: string): Promise<Uint8Array> {
  const url = `${import.meta.env.BASE_URL}${SAMPLE_BASE}${name}`;
  const res = await fetch(url);
  if (!res.ok) throw new Error(`sample file ${name} is missing (${res.status})`);
  return new Uint8Array(await res.arrayBuffer());
}

async function fetchNpy(name: string): Promise<Tensor> {
  const r = parseNpy(await fetchBytes(name));
  if (!r.ok) throw new Error(`${name}: ${r.error}`);
  return r.tensor;
}

/** The MNIST sample: `digits` test digits in tasks of `batch`. */
export async function mnistDraft(
  digits: number,
  batch: number,
  policy = SAMPLE_POLICY.mnist,
): Promise<JobDraft> {
  const [model, pixels, labels] = await Promise.all([
    fetchBytes(MNIST_FILES.model),
    fetchNpy(MNIST_FILES.pixels),
    fetchNpy(MNIST_FILES.labels),
  ]);
  const hash = await sha256Hex(model);
  const built = mnistTasks(hash, pixels, labels, digits, batch);
  const name = `MNIST · ${Math.min(digits, pixels.dims[0] ?? 0)} digits`;
  return {
    name,
    kind: 'mnist',
    spec: singleModelSpec(name, hash, model, built.tasks, policy),
    labels: built.labels,
  };
}

/** Detector input for one image: BGR, normalised, sides a multiple of 32. */
export async function ocrInput(blob: Blob): Promise<Tensor> {
  const img = await decodeImage(blob, (w, h) => fitSize(w, h, OCR_MAX_SIDE));
  return rgbaToTensor(img.rgba, img.width, img.height, {
    channels: 3,
    bgr: true,
    mean: OCR_MEAN,
    std: OCR_STD,
  });
}

/** The text-detection sample: one task per bundled image. */
export async function ocrDraft(policy = SAMPLE_POLICY.ocr): Promise<JobDraft> {
  const model = await fetchBytes(OCR_FILES.model);
  const hash = await sha256Hex(model);
  const tasks: TaskSpec[] = [];
  for (const file of OCR_FILES.images) {
    const x = await ocrInput(new Blob([(await fetchBytes(file)).slice().buffer as ArrayBuffer]));
    const id = `text-${file.replace(/^.*\//, '').replace(/\.\w+$/, '')}`;
    tasks.push({ id, model: hash, feeds: { x: { tensor: x } } });
  }
  const name = `Text detection · ${tasks.length} images`;
  return { name, kind: 'ocr', spec: singleModelSpec(name, hash, model, tasks, policy) };
}

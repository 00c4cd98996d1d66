import type { JobSpec, Policy, TaskSpec, Tensor } from '@peergrid/shared';
import { sliceRows } from './rows.ts';
import { tensorNumbers } from './tensor-json.ts';

/** The bundled sample jobs the Submit view offers. */
export type SampleId = 'mnist' | 'ocr';

/** Where the build puts the sample files (beside the page). */
export const SAMPLE_BASE = 'samples/';
export const MNIST_FILES = {
  model: 'mnist-mlp.onnx',
  pixels: 'mnist-test-1000.npy',
  labels: 'mnist-test-1000-labels.npy',
} as const;
export const OCR_FILES = {
  model: 'ocr-det.onnx',
  images: ['ocr/page.png', 'ocr/receipt.png', 'ocr/sign.png'],
} as const;

/** PaddleOCR's detector input: BGR, ImageNet mean/std, sides multiples of 32 up to this. Default 640. */
export const OCR_MAX_SIDE = 640;
export const OCR_MEAN = [0.406, 0.456, 0.485] as const; // BGR order
export const OCR_STD = [0.225, 0.224, 0.229] as const;

/** Policies that suit each sample: labels must agree for digits, maps within a tolerance for text. */
export const SAMPLE_POLICY: Readonly<Record<SampleId, Partial<Policy>>> = {
  mnist: { replicas: 2, quorum: 2, compare: { kind: 'argmax', axis: 1 }, taskDeadlineMs: 30_000 },
  ocr: {
    replicas: 2,
    quorum: 2,
    compare: { kind: 'tolerance', abs: 0.02, rel: 0.02 },
    taskDeadlineMs: 120_000,
  },
};

/**
 * MNIST tasks: the first `digits` test digits in batches of `batch`, each
 * `pixels` uint8 [batch, 784] → `logits`; with the known labels per task.
 */
export function mnistTasks(
  modelHash: string,
  pixels: Tensor,
  labels: Tensor,
  digits: number,
  batch: number,
): { tasks: TaskSpec[]; labels: Record<string, number[]> } {
  const total = Math.min(digits, pixels.dims[0] ?? 0);
  const truth = tensorNumbers(labels);
  const tasks: TaskSpec[] = [];
  const known: Record<string, number[]> = {};
  for (let start = 0, i = 0; start < total; start += batch, i++) {
    const end = Math.min(start + batch, total);
    const id = `digits-${String(i).padStart(3, '0')}`;
    tasks.push({
      id,
      model: modelHash,
      feeds: { pixels: { tensor: sliceRows(pixels, start, end) } },
      outputs: ['logits'],
    });
    known[id] = truth.slice(start, end);
  }
  return { tasks, labels: known };
}

/** A job spec from tasks over one model. */
export function singleModelSpec(
  name: string,
  modelHash: string,
  model: Uint8Array,
  tasks: TaskSpec[],
  policy: Partial<Policy>,
): JobSpec {
  return { name, models: { [modelHash]: model }, tasks, policy };
}

/**
 * What `peergrid run` submits: a job spec from a model and inputs (a .npy or
 * .json tensor split into row batches, a folder of such files, or a folder of
 * PNG/JPEG images), or one of the bundled workloads with its local reference.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { JobSpec, Policy, TaskSpec, Tensor } from '@peergrid/shared';
import onnxProto from 'onnx-proto';
import { IMAGE_EXTENSIONS, loadImageFolder } from '../inputs/images.ts';
import { loadTensorFile, TENSOR_FILE_EXTENSIONS } from '../inputs/load-tensor.ts';
import {
  createMatmulJob,
  createMnistJob,
  createMnistTwoStageJob,
  createOcrJob,
  type MATMUL_PRESETS,
  modelHash,
  OCR_FIXTURE_DIR,
  sliceRows,
  type Workload,
} from '../workloads/index.ts';

export const WORKLOADS = ['mnist', 'ocr', 'matmul', 'two-stage'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export interface WorkloadOptions {
  readonly workload: WorkloadName;
  /** MNIST digits per task. Default 100. */
  readonly batch?: number;
  /** matmul preset. Default 'ms2'. */
  readonly preset?: keyof typeof MATMUL_PRESETS;
  /** matmul tasks. Default 100. */
  readonly tasks?: number;
  /** OCR image folder. Default: the bundled samples. */
  readonly images?: string;
}

export async function buildWorkload(o: WorkloadOptions): Promise<Workload> {
  switch (o.workload) {
    case 'mnist':
      return createMnistJob({ batchSize: o.batch ?? 100 });
    case 'two-stage':
      return createMnistTwoStageJob({ batchSize: o.batch ?? 100 });
    case 'matmul':
      return createMatmulJob({ preset: o.preset ?? 'ms2', tasks: o.tasks ?? 100, grouped: true });
    case 'ocr':
      return createOcrJob({ images: await loadImageFolder(o.images ?? OCR_FIXTURE_DIR) });
  }
}

/** The model's graph inputs that are not initializers, in order. */
export function modelInputNames(model: Uint8Array): string[] {
  const m = onnxProto.onnx.ModelProto.decode(model);
  const inits = new Set((m.graph?.initializer ?? []).map((t) => t.name));
  return (m.graph?.input ?? []).map((i) => i.name ?? '').filter((n) => n && !inits.has(n));
}

export interface ModelJobOptions {
  readonly model: string;
  readonly inputs: string;
  /** Feed name. Default: the model's only (first) non-initializer input. */
  readonly inputName?: string;
  /** Rows per task when the input is one tensor file. Default: the whole tensor in one task. */
  readonly batch?: number;
  readonly policy: Partial<Policy>;
}

/** Builds the job; throws an Error with a message for the user when the inputs do not fit. */
export async function buildModelJob(o: ModelJobOptions): Promise<JobSpec> {
  const model = new Uint8Array(await readFile(o.model));
  let names: string[];
  try {
    names = modelInputNames(model);
  } catch {
    throw new Error(`${o.model}: not an ONNX model`);
  }
  const feed = o.inputName ?? names[0];
  if (!feed) throw new Error(`${o.model}: the model has no inputs; name one with --input-name`);
  const hash = modelHash(model);
  const tensors: { id: string; tensor: Tensor }[] = [];
  if ((await stat(o.inputs)).isDirectory()) {
    const files = (await readdir(o.inputs)).sort();
    const images = files.filter((f) => IMAGE_EXTENSIONS.includes(extname(f).toLowerCase()));
    if (images.length > 0) {
      for (const img of await loadImageFolder(o.inputs)) {
        tensors.push({ id: img.name, tensor: img.input.tensor });
      }
    } else {
      for (const f of files.filter((n) =>
        TENSOR_FILE_EXTENSIONS.includes(extname(n).toLowerCase()),
      )) {
        tensors.push({ id: f, tensor: await loadTensorFile(join(o.inputs, f)) });
      }
    }
    if (tensors.length === 0) throw new Error(`${o.inputs}: no .npy, .json, .png or .jpg files`);
  } else {
    const t = await loadTensorFile(o.inputs);
    const rows = t.dims[0] ?? 1;
    const batch = o.batch ?? rows;
    if (t.dims.length === 0 || batch >= rows) tensors.push({ id: 'all', tensor: t });
    else {
      for (let start = 0; start < rows; start += batch) {
        tensors.push({ id: `rows-${start}`, tensor: sliceRows(t, start, start + batch) });
      }
    }
  }
  const tasks: TaskSpec[] = tensors.map((x) => ({
    id: x.id,
    model: hash,
    feeds: { [feed]: { tensor: x.tensor } },
  }));
  return { name: o.model, models: { [hash]: model }, tasks, policy: o.policy };
}

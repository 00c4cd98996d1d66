/**
 * What `peergrid run` submits: a job spec from a model, each task's named
 * feeds (see inputs/task-feeds.ts) and constant feeds every task shares, all
 * checked against the model's declared inputs before anything is sent; or one
 * of the bundled workloads with its local reference.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  canonicalBytes,
  type DeclaredInput,
  type FeedSpec,
  findJobFeedProblems,
  type JobSpec,
  jobFeedProblemsText,
  type NamedFeeds,
  type Policy,
  shapeText,
  type TaskSpec,
  type Tensor,
} from '@peergrid/shared';
import { type ConstFlag, loadConstFeed } from '../inputs/const-feed.ts';
import { loadImageFolder } from '../inputs/images.ts';
import { declaredInputs } from '../inputs/model-inputs.ts';
import { loadInputsPath, loadNamedInputs, type NamedInputFlag } from '../inputs/task-feeds.ts';
import {
  createMatmulJob,
  createMnistJob,
  createMnistTwoStageJob,
  createOcrJob,
  type MATMUL_PRESETS,
  modelHash,
  OCR_FIXTURE_DIR,
  type Workload,
} from '../workloads/index.ts';
import type { RunOptions } from './run-args.ts';

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

export interface ModelJobOptions {
  readonly model: string;
  /** `--inputs`: a file split into `batch` rows per task, or a folder (one task per file). */
  readonly inputs?: string;
  /** The input a file's single unnamed tensor feeds. Default: the model's first input no constant covers. */
  readonly inputName?: string;
  /** `--input NAME=PATH`, repeated: instead of `inputs`. */
  readonly namedInputs?: readonly NamedInputFlag[];
  /** Feeds every task shares (`--const`), stored once in the job as blobs. */
  readonly consts?: readonly ConstFlag[];
  /** Rows per task when splitting tensor files. Default: the whole tensors in one task. */
  readonly batch?: number;
  readonly policy: Partial<Policy>;
}

/** The model-job part of `peergrid run`'s options. */
export function modelJobOptions(o: RunOptions): ModelJobOptions {
  return {
    model: o.model ?? '',
    policy: o.policy,
    ...(o.inputs !== undefined ? { inputs: o.inputs } : {}),
    ...(o.inputName !== undefined ? { inputName: o.inputName } : {}),
    ...(o.namedInputs?.length ? { namedInputs: o.namedInputs } : {}),
    ...(o.consts?.length ? { consts: o.consts } : {}),
    ...(o.batch !== undefined ? { batch: o.batch } : {}),
  };
}

/** A model's inputs for messages: `input_ids int64 [batch, seq], scale float32 []`. */
export function declaredText(inputs: readonly DeclaredInput[]): string {
  if (inputs.length === 0) return 'none';
  return inputs
    .map((i) => `${i.name} ${i.dtype} ${shapeText(i.shape)}${i.optional ? ' (optional)' : ''}`)
    .join(', ');
}

/**
 * Builds the job: every task's feeds and the constants are checked against
 * the model's declared inputs first. Throws an Error with a message for the
 * user listing every problem when the inputs do not fit.
 */
export async function buildModelJob(o: ModelJobOptions): Promise<JobSpec> {
  const model = new Uint8Array(await readFile(o.model));
  let declared: DeclaredInput[];
  try {
    declared = declaredInputs(model);
  } catch {
    throw new Error(`${o.model}: not an ONNX model`);
  }
  const consts = new Map<string, Tensor>();
  for (const c of o.consts ?? []) {
    consts.set(
      c.name,
      await loadConstFeed(
        c,
        declared.find((d) => d.name === c.name),
      ),
    );
  }
  let tasks: NamedFeeds[];
  if (o.namedInputs?.length) {
    tasks = await loadNamedInputs(o.namedInputs, o.batch !== undefined ? { batch: o.batch } : {});
  } else {
    if (!o.inputs) throw new Error('give --inputs PATH or --input NAME=PATH');
    const bareName = o.inputName ?? declared.find((d) => !d.optional && !consts.has(d.name))?.name;
    tasks = await loadInputsPath(o.inputs, {
      ...(o.batch !== undefined ? { batch: o.batch } : {}),
      ...(bareName !== undefined ? { bareName } : {}),
    });
  }
  const twice = [...consts.keys()].filter((n) => tasks.some((t) => Object.hasOwn(t.feeds, n)));
  if (twice.length > 0) {
    throw new Error(`${twice.join(', ')}: given per task and as --const; give each input one way`);
  }
  const shared = Object.fromEntries(consts);
  const problems = findJobFeedProblems(
    declared,
    tasks.map((t) => ({ id: t.id, feeds: { ...t.feeds, ...shared } })),
  );
  if (problems.length > 0) {
    throw new Error(
      `the inputs do not fit ${o.model}:\n${jobFeedProblemsText(problems)}\nthe model's inputs: ${declaredText(declared)}`,
    );
  }
  const blobs: Record<string, Tensor> = {};
  const constFeeds: Record<string, FeedSpec> = {};
  for (const [name, t] of consts) {
    const hash = createHash('sha256').update(canonicalBytes(t)).digest('hex');
    blobs[hash] = t;
    constFeeds[name] = { blob: hash };
  }
  const hash = modelHash(model);
  const specTasks: TaskSpec[] = tasks.map((t) => ({
    id: t.id,
    model: hash,
    feeds: {
      ...Object.fromEntries(Object.entries(t.feeds).map(([k, tensor]) => [k, { tensor }])),
      ...constFeeds,
    },
  }));
  return {
    name: o.model,
    models: { [hash]: model },
    ...(consts.size > 0 ? { blobs } : {}),
    tasks: specTasks,
    policy: o.policy,
  };
}

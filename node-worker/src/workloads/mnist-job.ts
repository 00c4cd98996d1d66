/**
 * MNIST digit classification jobs over the committed fixtures: one task per
 * batch of digits through the classifier, or a two-stage job where each
 * batch's hidden layer (stage 1) feeds the classifier head (stage 2).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Tensor, tensorValues } from '@peergrid/shared';
import { parseNpy } from '../inputs/npy.ts';
import { createMnistStageModels, readMnistWeights } from './mnist-model.ts';
import { modelHash } from './onnx-builder.ts';
import { createWorkload, sliceRows, type Workload, type WorkloadTask } from './workload.ts';

/** Paths of the committed fixtures (see scripts/gen-mnist.ts). */
export const MNIST_FIXTURES = {
  model: fileURLToPath(new URL('../../fixtures/mnist-mlp.onnx', import.meta.url)),
  pixels: fileURLToPath(new URL('../../fixtures/mnist-test-1000.npy', import.meta.url)),
  labels: fileURLToPath(new URL('../../fixtures/mnist-test-1000-labels.npy', import.meta.url)),
} as const;

export interface MnistFixtures {
  readonly model: Uint8Array;
  /** uint8 [1000, 784]. */
  readonly pixels: Tensor;
  /** uint8 [1000]. */
  readonly labels: Tensor;
}

export function loadMnistFixtures(): MnistFixtures {
  const read = (p: string) => {
    const t = parseNpy(readFileSync(p));
    if (!t) throw new Error(`${p}: not a .npy file`);
    return t;
  };
  return {
    model: new Uint8Array(readFileSync(MNIST_FIXTURES.model)),
    pixels: read(MNIST_FIXTURES.pixels),
    labels: read(MNIST_FIXTURES.labels),
  };
}

/** Options of the MNIST jobs. */
export interface MnistJobOptions {
  /** Defaults to the committed fixtures. */
  readonly fixtures?: MnistFixtures;
  /** Digits per task. Default 100. */
  readonly batchSize?: number;
  /** Use only the first N digits. Default all. */
  readonly limit?: number;
}

function batches(pixels: Tensor, batchSize: number, limit: number): Tensor[] {
  const total = Math.min(limit, pixels.dims[0] ?? 0);
  const out: Tensor[] = [];
  for (let start = 0; start < total; start += batchSize)
    out.push(sliceRows(pixels, start, Math.min(start + batchSize, total)));
  return out;
}

/** One task per batch: `pixels` → `logits`, `label`. Task ids `mnist-0`, `mnist-1`, … */
export function createMnistJob(options: MnistJobOptions = {}): Workload {
  const fx = options.fixtures ?? loadMnistFixtures();
  const hash = modelHash(fx.model);
  const tasks: WorkloadTask[] = batches(
    fx.pixels,
    options.batchSize ?? 100,
    options.limit ?? Infinity,
  ).map((t, i) => ({
    id: `mnist-${i}`,
    model: hash,
    feeds: { pixels: { tensor: t } },
  }));
  return createWorkload({ name: 'mnist', models: { [hash]: fx.model }, tasks });
}

/**
 * Two stages per batch: `hidden-i` (pixels → hidden) then `head-i`, fed by
 * `hidden-i`'s `hidden` output (→ logits, label). Same labels as the one-stage job.
 */
export function createMnistTwoStageJob(options: MnistJobOptions = {}): Workload {
  const fx = options.fixtures ?? loadMnistFixtures();
  const weights = readMnistWeights(fx.model);
  if (!weights) throw new Error('the MNIST model has no w1/b1/w2/b2 initializers');
  const stages = createMnistStageModels(weights);
  const hiddenHash = modelHash(stages.hidden);
  const headHash = modelHash(stages.head);
  const tasks: WorkloadTask[] = [];
  batches(fx.pixels, options.batchSize ?? 100, options.limit ?? Infinity).forEach((t, i) => {
    tasks.push({ id: `hidden-${i}`, model: hiddenHash, feeds: { pixels: { tensor: t } } });
    tasks.push({
      id: `head-${i}`,
      model: headHash,
      feeds: { hidden: { fromTask: `hidden-${i}`, output: 'hidden' } },
    });
  });
  return createWorkload({
    name: 'mnist-two-stage',
    models: { [hiddenHash]: stages.hidden, [headHash]: stages.head },
    tasks,
  });
}

/** Share of predicted labels (int64 `label` outputs, in task order) that equal the fixture labels. */
export function mnistAccuracy(predicted: readonly Tensor[], labels: Tensor): number {
  const truth = tensorValues(labels);
  let i = 0;
  let correct = 0;
  for (const t of predicted) {
    for (const v of tensorValues(t) as BigInt64Array)
      if (Number(v) === Number(truth[i++])) correct++;
  }
  return i === 0 ? 0 : correct / i;
}

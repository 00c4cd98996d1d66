import { type Tensor, tensorValues } from '@peergrid/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { createNodeExecutor } from '../../src/exec/node-executor.ts';
import { trainMlp } from '../../src/workloads/mlp-train.ts';
import {
  createMnistJob,
  createMnistTwoStageJob,
  loadMnistFixtures,
  mnistAccuracy,
} from '../../src/workloads/mnist-job.ts';
import { createMnistModel } from '../../src/workloads/mnist-model.ts';

describe('MNIST workload', () => {
  const ex = createNodeExecutor({ backend: 'cpu', concurrency: 2 });
  afterAll(() => ex.close());
  const fixtures = loadMnistFixtures();

  it('ships 1000 labelled test digits', () => {
    expect(fixtures.pixels.dtype).toBe('uint8');
    expect(fixtures.pixels.dims).toEqual([1000, 784]);
    expect(fixtures.labels.dims).toEqual([1000]);
    const counts = new Array(10).fill(0);
    for (const l of tensorValues(fixtures.labels)) counts[Number(l)]++;
    expect(counts).toEqual(new Array(10).fill(100));
  });

  it('classifies the fixture digits with accuracy >= 0.93 through the executor', async () => {
    const job = createMnistJob({ fixtures, batchSize: 250 });
    expect(job.spec.tasks).toHaveLength(4);
    const out = await job.reference(ex);
    const labels = job.spec.tasks.map((t) => out.get(t.id)?.label as Tensor);
    expect(mnistAccuracy(labels, fixtures.labels)).toBeGreaterThanOrEqual(0.93);
  });

  it('runs as a two-stage task graph with the same labels as the one-stage model', async () => {
    const one = createMnistJob({ fixtures, limit: 300 });
    const two = createMnistTwoStageJob({ fixtures, limit: 300 });
    expect(two.spec.tasks).toHaveLength(6);
    expect(Object.keys(two.spec.models)).toHaveLength(2);
    expect(two.spec.tasks[1]?.feeds.hidden).toEqual({ fromTask: 'hidden-0', output: 'hidden' });
    const a = await one.reference(ex);
    const b = await two.reference(ex);
    for (let i = 0; i < 3; i++) {
      const labelsA = a.get(`mnist-${i}`)?.label as Tensor;
      const labelsB = b.get(`head-${i}`)?.label as Tensor;
      expect(labelsB.data).toEqual(labelsA.data);
      expect(b.get(`hidden-${i}`)?.hidden?.dims).toEqual([100, 64]);
    }
  });

  it('trains deterministically from a seed', () => {
    const n = 300;
    const data = {
      count: n,
      pixels: fixtures.pixels.data.subarray(0, n * 784),
      labels: fixtures.labels.data.subarray(0, n),
    };
    const a = createMnistModel(trainMlp(data, { epochs: 1, hidden: 16, seed: 7 }));
    const b = createMnistModel(trainMlp(data, { epochs: 1, hidden: 16, seed: 7 }));
    const c = createMnistModel(trainMlp(data, { epochs: 1, hidden: 16, seed: 8 }));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });
});

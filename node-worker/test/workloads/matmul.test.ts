import { allTasks, type Tensor, tensorValues, validateJob } from '@peergrid/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { createNodeExecutor } from '../../src/exec/node-executor.ts';
import {
  createMatmulInput,
  createMatmulModel,
  MATMUL_PRESETS,
} from '../../src/workloads/matmul.ts';
import { createMatmulJob } from '../../src/workloads/matmul-job.ts';
import { readInitializers } from '../../src/workloads/onnx-builder.ts';

describe('matmul workload', () => {
  const ex = createNodeExecutor({ backend: 'cpu', concurrency: 2 });
  afterAll(() => ex.close());

  it('computes tanh(x·W) per layer, as a plain JS loop does', async () => {
    const size = 16;
    const model = createMatmulModel({ size, layers: 3 });
    const w = readInitializers(model).get('w')?.values as Float32Array;
    const job = createMatmulJob({ size, layers: 3, batch: 2, tasks: 2 });
    const out = await job.reference(ex);
    const x = tensorValues(createMatmulInput(2, size, 2)) as Float32Array;
    let cur = Float64Array.from(x);
    for (let l = 0; l < 3; l++) {
      const next = new Float64Array(cur.length);
      for (let r = 0; r < 2; r++) {
        for (let j = 0; j < size; j++) {
          let s = 0;
          for (let k = 0; k < size; k++)
            s += (cur[r * size + k] as number) * (w[k * size + j] as number);
          next[r * size + j] = Math.tanh(s);
        }
      }
      cur = next;
    }
    const y = tensorValues(out.get('mm-1')?.y as Tensor) as Float32Array;
    for (let i = 0; i < cur.length; i++) expect(y[i]).toBeCloseTo(cur[i] as number, 4);
  });

  it('chains tasks through the task graph and keeps models small', async () => {
    const chain = createMatmulJob({ size: 8, layers: 2, batch: 1, tasks: 3, chain: true });
    expect(chain.spec.tasks[2]?.feeds.x).toEqual({ fromTask: 'mm-1', output: 'y' });
    const out = await chain.reference(ex);
    const single = createMatmulJob({ size: 8, layers: 6, batch: 1, tasks: 1 });
    const direct = await single.reference(ex);
    const a = tensorValues(out.get('mm-2')?.y as Tensor) as Float32Array;
    const b = tensorValues(direct.get('mm-0')?.y as Tensor) as Float32Array;
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i] as number, 5);
    expect(createMatmulModel(MATMUL_PRESETS.ms20).byteLength).toBeLessThan(300_000);
    const tiny = createMatmulJob({ preset: 'tiny', tasks: 2 });
    const echoed = await tiny.reference(ex);
    for (const t of tiny.spec.tasks) {
      const x = t.feeds.x;
      expect(x && 'tensor' in x ? x.tensor.data : null).toEqual(echoed.get(t.id)?.y?.data);
    }
  });

  it('gives the same tasks as one group over one tensor, and the same reference', async () => {
    const list = createMatmulJob({ size: 8, layers: 2, batch: 3, tasks: 5 });
    const grouped = createMatmulJob({ size: 8, layers: 2, batch: 3, tasks: 5, grouped: true });
    expect(grouped.spec.tasks).toEqual([]);
    expect(grouped.spec.groups?.[0]?.count).toBe(5);
    const spec = { ...grouped.spec, blobs: grouped.spec.blobs ?? {} };
    expect(validateJob(spec)).toEqual([]);
    expect(allTasks(spec)).toEqual(list.spec.tasks);
    expect(await grouped.reference(ex)).toEqual(await list.reference(ex));
  });
});

import { type Executor, type Tensor, tensorValues } from '@peergrid/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { createNodeExecutor } from '../../src/exec/node-executor.ts';
import { createMatmulJob } from '../../src/workloads/matmul-job.ts';
import { createMnistJob } from '../../src/workloads/mnist-job.ts';
import type { ReferenceOutputs } from '../../src/workloads/workload.ts';

function float32(outputs: ReferenceOutputs, task: string, name: string): Float32Array {
  return tensorValues(outputs.get(task)?.[name] as Tensor) as Float32Array;
}

describe('WASM results', () => {
  const wasm = createNodeExecutor({ backend: 'wasm', concurrency: 2 });
  const cpu = createNodeExecutor({ backend: 'cpu', concurrency: 1 });
  const fresh: Executor[] = [];
  afterAll(async () => {
    await Promise.all([wasm.close(), cpu.close(), ...fresh.map((e) => e.close())]);
  });

  it('are bitwise equal across runs and runners, and within 1e-4 of onnxruntime-node', async () => {
    const jobs = [
      createMnistJob({ limit: 200 }),
      createMatmulJob({ size: 64, layers: 6, batch: 8, tasks: 3 }),
    ];
    for (const job of jobs) {
      const first = await job.reference(wasm);
      const again = createNodeExecutor({ backend: 'wasm', concurrency: 1 });
      fresh.push(again);
      const second = await job.reference(again);
      const native = await job.reference(cpu);
      for (const task of job.spec.tasks) {
        const outputs = first.get(task.id) ?? {};
        for (const [name, t] of Object.entries(outputs)) {
          expect(second.get(task.id)?.[name]?.data).toEqual(t.data);
          if (t.dtype !== 'float32') continue;
          const a = float32(first, task.id, name);
          const b = float32(native, task.id, name);
          let maxErr = 0;
          for (let i = 0; i < a.length; i++)
            maxErr = Math.max(maxErr, Math.abs((a[i] as number) - (b[i] as number)));
          expect(maxErr).toBeLessThan(1e-4);
        }
      }
    }
  });
});

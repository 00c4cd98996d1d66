import { PeerGridError } from '@peergrid/shared';
import { describe, expect, it } from 'vitest';
import { detectBackends } from '../../src/exec/detect-backends.ts';
import { createNodeExecutor } from '../../src/exec/node-executor.ts';
import { createMatmulInput, createMatmulModel } from '../../src/workloads/matmul.ts';
import { modelHash } from '../../src/workloads/onnx-builder.ts';
import { describeExecutorCompliance } from './executor-compliance.ts';

describeExecutorCompliance('node executor, cpu (onnxruntime-node)', (o) =>
  createNodeExecutor({ ...o, backend: 'cpu' }),
);
describeExecutorCompliance('node executor, wasm (onnxruntime-web)', (o) =>
  createNodeExecutor({ ...o, backend: 'wasm' }),
);

describe('node executor backends', () => {
  it('offers cpu and wasm here, and refuses an absent backend with a clear message', async () => {
    const report = await detectBackends();
    expect(report.backends).toContain('cpu');
    expect(report.backends).toContain('wasm');
    const ex = createNodeExecutor({ concurrency: 1 });
    try {
      const model = createMatmulModel({ size: 4, layers: 1 });
      const req = {
        modelHash: modelHash(model),
        model,
        feeds: { x: createMatmulInput(1, 4, 1) },
        timeoutMs: 10_000,
      };
      const auto = await ex.run(req);
      expect(auto.backend).toBe(report.backends[0]);
      const err = await ex.run({ ...req, backend: 'webgpu' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PeerGridError);
      expect((err as PeerGridError).code).toBe('backend-unavailable');
      expect((err as PeerGridError).message).toMatch(/webgpu/);
      if (!report.backends.includes('cuda')) {
        const cuda = await ex.run({ ...req, backend: 'cuda' }).catch((e: unknown) => e);
        expect((cuda as PeerGridError).code).toBe('backend-unavailable');
        expect((cuda as PeerGridError).message).toMatch(/CUDA/);
      }
    } finally {
      await ex.close();
    }
  });
});

/**
 * A reusable compliance suite for `Executor` implementations: call
 * `describeExecutorCompliance(name, factory)` from a test file. The factory
 * gets the pool size and limits each case needs.
 */
import {
  EXEC_ERROR_CODES,
  type ExecRequest,
  type Executor,
  PeerGridError,
  type Tensor,
  tensorFrom,
  tensorValues,
} from '@peergrid/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { createMatmulInput, createMatmulModel } from '../../src/workloads/matmul.ts';
import { loadMnistFixtures } from '../../src/workloads/mnist-job.ts';
import { readMnistWeights } from '../../src/workloads/mnist-model.ts';
import { buildOnnxModel, modelHash } from '../../src/workloads/onnx-builder.ts';
import { sliceRows } from '../../src/workloads/workload.ts';

export interface ComplianceFactoryOptions {
  readonly concurrency: number;
  readonly maxModelBytes?: number;
  readonly maxTensorBytes?: number;
  readonly maxSessionsPerWorker?: number;
}

export type ExecutorFactory = (options: ComplianceFactoryOptions) => Executor;

/** Logits of the MNIST MLP computed in plain JS (float64), the independent reference. */
export function mnistLogits(model: Uint8Array, pixels: Tensor): Float64Array {
  const w = readMnistWeights(model);
  if (!w) throw new Error('not an MNIST model');
  const px = tensorValues(pixels) as Uint8Array;
  const n = pixels.dims[0] ?? 0;
  const out = new Float64Array(n * w.classes);
  const h = new Float64Array(w.hidden);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < w.hidden; j++) {
      let s = w.b1[j] as number;
      for (let k = 0; k < w.inputs; k++)
        s += ((px[r * w.inputs + k] as number) / 255) * (w.w1[k * w.hidden + j] as number);
      h[j] = Math.max(0, s);
    }
    for (let c = 0; c < w.classes; c++) {
      let s = w.b2[c] as number;
      for (let j = 0; j < w.hidden; j++)
        s += (h[j] as number) * (w.w2[j * w.classes + c] as number);
      out[r * w.classes + c] = s;
    }
  }
  return out;
}

function request(
  model: Uint8Array,
  feeds: Record<string, Tensor>,
  timeoutMs = 30_000,
): ExecRequest {
  return { modelHash: modelHash(model), model, feeds, timeoutMs };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    expect(err).toBeInstanceOf(PeerGridError);
    expect(EXEC_ERROR_CODES).toContain((err as PeerGridError).code);
    return (err as PeerGridError).code;
  }
}

export function describeExecutorCompliance(name: string, factory: ExecutorFactory): void {
  describe(`Executor compliance: ${name}`, () => {
    const open: Executor[] = [];
    const make = (o: ComplianceFactoryOptions) => {
      const ex = factory(o);
      open.push(ex);
      return ex;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((ex) => ex.close()));
    });
    const fx = loadMnistFixtures();
    const digits = sliceRows(fx.pixels, 0, 40);
    const good = request(fx.model, { pixels: digits });

    it('runs a real model and matches an independent computation', async () => {
      const ex = make({ concurrency: 1 });
      const res = await ex.run(good);
      expect(await ex.backends()).toContain(res.backend);
      expect(res.computeMs).toBeGreaterThanOrEqual(0);
      const logits = tensorValues(res.outputs.logits as Tensor) as Float32Array;
      expect(res.outputs.logits?.dims).toEqual([40, 10]);
      const ref = mnistLogits(fx.model, digits);
      let maxErr = 0;
      for (let i = 0; i < ref.length; i++)
        maxErr = Math.max(maxErr, Math.abs((logits[i] as number) - (ref[i] as number)));
      expect(maxErr).toBeLessThan(1e-3);
      const labels = [...(tensorValues(res.outputs.label as Tensor) as BigInt64Array)].map(Number);
      const refLabels = Array.from({ length: 40 }, (_, r) => {
        const row = [...ref.subarray(r * 10, r * 10 + 10)];
        return row.indexOf(Math.max(...row));
      });
      expect(labels).toEqual(refLabels);
    });

    it('fetches only the outputs asked for', async () => {
      const ex = make({ concurrency: 1 });
      const res = await ex.run({ ...good, outputs: ['label'] });
      expect(Object.keys(res.outputs)).toEqual(['label']);
      expect(await codeOf(ex.run({ ...good, outputs: ['nope'] }))).toBe('bad-input');
    });

    it('rejects malformed models and unknown operators with bad-model, then keeps serving', async () => {
      const ex = make({ concurrency: 1 });
      const garbage = Uint8Array.from({ length: 64 }, (_, i) => (i * 37) % 251);
      expect(await codeOf(ex.run(request(garbage, { pixels: digits })))).toBe('bad-model');
      const unknownOp = buildOnnxModel({
        name: 'bogus',
        inputs: [{ name: 'x', dtype: 'float32', dims: [2] }],
        outputs: [{ name: 'y', dtype: 'float32', dims: [2] }],
        initializers: [],
        nodes: [{ op: 'NoSuchOperator', inputs: ['x'], outputs: ['y'] }],
      });
      const x = tensorFrom('float32', [2], new Float32Array([1, 2]));
      expect(await codeOf(ex.run(request(unknownOp, { x })))).toBe('bad-model');
      expect((await ex.run(good)).outputs.label?.dims).toEqual([40]);
    });

    it('rejects feeds that do not fit the model with bad-input', async () => {
      const ex = make({ concurrency: 1 });
      const wrongWidth = tensorFrom('uint8', [2, 10], new Uint8Array(20));
      const wrongType = tensorFrom('float32', [2, 784], new Float32Array(2 * 784));
      const inconsistent = { dtype: 'uint8', dims: [2, 784], data: new Uint8Array(5) } as const;
      expect(await codeOf(ex.run(request(fx.model, { pixels: wrongWidth })))).toBe('bad-input');
      expect(await codeOf(ex.run(request(fx.model, { pixels: wrongType })))).toBe('bad-input');
      expect(await codeOf(ex.run(request(fx.model, { image: digits })))).toBe('bad-input');
      expect(await codeOf(ex.run(request(fx.model, {})))).toBe('bad-input');
      expect(await codeOf(ex.run(request(fx.model, { pixels: inconsistent })))).toBe('bad-input');
      expect((await ex.run(good)).outputs.logits?.dims).toEqual([40, 10]);
    });

    it('enforces model and tensor limits with too-large', async () => {
      const ex = make({ concurrency: 1, maxModelBytes: 100_000, maxTensorBytes: 2_000 });
      expect(await codeOf(ex.run(good))).toBe('too-large');
      const small = createMatmulModel({ size: 16, layers: 1 });
      expect(await codeOf(ex.run(request(small, { x: createMatmulInput(64, 16, 1) })))).toBe(
        'too-large',
      );
      const wide = createMatmulModel({ size: 4, layers: 0 });
      const ok = await ex.run(request(wide, { x: createMatmulInput(2, 4, 1) }));
      expect(ok.outputs.y?.dims).toEqual([2, 4]);
    });

    it('kills a task past its timeout and recovers', async () => {
      const ex = make({ concurrency: 1 });
      // ~54 GFLOP at batch 4096: far past 150 ms on any backend; trivial at batch 1.
      const slow = createMatmulModel({ size: 256, layers: 100 });
      await ex.run(request(slow, { x: createMatmulInput(1, 256, 1) }));
      expect(await codeOf(ex.run(request(slow, { x: createMatmulInput(4096, 256, 2) }, 150)))).toBe(
        'timeout',
      );
      const after = await ex.run(request(slow, { x: createMatmulInput(1, 256, 1) }));
      expect(after.outputs.y?.dims).toEqual([1, 256]);
    });

    it('runs concurrent tasks of several models without mixing them up', async () => {
      const ex = make({ concurrency: 2, maxSessionsPerWorker: 1 });
      expect(ex.concurrency).toBe(2);
      const mm = createMatmulModel({ size: 32, layers: 3 });
      const reqs = Array.from({ length: 8 }, (_, i) =>
        i % 2 === 0
          ? request(fx.model, { pixels: sliceRows(fx.pixels, i * 10, i * 10 + 10) })
          : request(mm, { x: createMatmulInput(4, 32, i) }),
      );
      const solo: Tensor[] = [];
      for (const r of reqs) solo.push(Object.values((await ex.run(r)).outputs)[0] as Tensor);
      const together = await Promise.all(reqs.map((r) => ex.run(r)));
      together.forEach((res, i) => {
        expect(Object.values(res.outputs)[0]?.data).toEqual(solo[i]?.data);
      });
    });
  });
}

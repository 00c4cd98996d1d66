import { readFileSync } from 'node:fs';
import { tensorFrom, tensorValues } from '@peergrid/shared';
import { describe, expect, it } from 'vitest';
import { createOrtHost } from '../src/exec/ort-host.ts';
import { NEED_MODEL } from '../src/exec/worker-protocol.ts';
import { parseNpy } from '../src/lib/npy.ts';

// The real worker body with onnxruntime-web's WASM backend, in Node, on the MNIST fixture.
const fixtures = new URL('../../node-worker/fixtures/', import.meta.url);
const model = new Uint8Array(readFileSync(new URL('mnist-mlp.onnx', fixtures)));
const npy = (name: string) => {
  const r = parseNpy(new Uint8Array(readFileSync(new URL(name, fixtures))));
  if (!r.ok) throw new Error(r.error);
  return r.tensor;
};
const pixels = npy('mnist-test-1000.npy');
const labels = npy('mnist-test-1000-labels.npy');
const rows = (n: number) => ({
  dtype: pixels.dtype,
  dims: [n, 784],
  data: pixels.data.slice(0, n * 784),
});

describe('ORT worker body (onnxruntime-web WASM)', () => {
  it('runs the MNIST model, caches its session, and names misfits', {
    timeout: 60_000,
  }, async () => {
    const host = createOrtHost();
    expect(await host.init({ wasmPaths: '', threads: 1, gpu: false })).toEqual({
      backends: ['wasm'],
      threads: 1,
    });

    expect(await host.warm()).toEqual({ ok: true, value: undefined });
    const info = await host.inspect(model);
    expect(info.ok && info.value.inputs).toEqual([
      { name: 'pixels', type: 'uint8', shape: ['n', 784] },
    ]);

    const r = await host.run({ modelHash: 'mnist', model, feeds: { pixels: rows(16) } });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.backend).toBe('wasm');
    expect(r.value.outputs.logits?.dims).toEqual([16, 10]);
    const predicted = Array.from(tensorValues(r.value.outputs.label!) as BigInt64Array, Number);
    const truth = Array.from(tensorValues(labels) as Uint8Array).slice(0, 16);
    const correct = predicted.filter((p, i) => p === truth[i]).length;
    expect(correct).toBeGreaterThanOrEqual(14);

    // Cached: no model bytes needed; an unknown hash asks for them.
    const again = await host.run({
      modelHash: 'mnist',
      feeds: { pixels: rows(2) },
      outputs: ['label'],
    });
    expect(again.ok && Object.keys(again.value.outputs)).toEqual(['label']);
    const unknown = await host.run({ modelHash: 'other', feeds: { pixels: rows(1) } });
    expect(unknown.ok ? '' : unknown.error.code).toBe(NEED_MODEL);

    const misfit = await host.run({
      modelHash: 'mnist',
      feeds: { pixels: tensorFrom('float32', [1, 784], new Float32Array(784)) },
    });
    expect(misfit).toEqual({
      ok: false,
      error: { code: 'bad-input', message: 'input "pixels" must be uint8, got float32' },
    });
    const wrongShape = await host.run({
      modelHash: 'mnist',
      feeds: { pixels: tensorFrom('uint8', [1, 10], new Uint8Array(10)) },
    });
    expect(wrongShape.ok ? '' : wrongShape.error.message).toMatch(
      /shape \[n, 784\], got \[1, 10\]/,
    );
  });

  it('refuses a file that is not a model with bad-model', { timeout: 30_000 }, async () => {
    const host = createOrtHost();
    await host.init({ wasmPaths: '', threads: 1, gpu: false });
    const junk = new TextEncoder().encode('not a protobuf at all');
    const info = await host.inspect(junk);
    expect(info.ok ? '' : info.error.code).toBe('bad-model');
    const run = await host.run({ modelHash: 'junk', model: junk, feeds: {} });
    expect(run.ok ? '' : run.error.code).toBe('bad-model');
  });
});

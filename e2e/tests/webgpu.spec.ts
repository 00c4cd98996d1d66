import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumPath } from '../chromium.ts';
import { expect, test } from '../harness/fixtures.ts';
import { maxAbsDiff, mnistOutput, submitMnist, waitCompleted } from '../harness/jobs.ts';
import { mnistReference } from '../harness/reference.ts';
import { openTab, waitForMesh } from '../harness/tabs.ts';

/** WebGPU (SwiftShader here) and WASM differ in the last bits of float sums: well under this. */
const GPU_TOLERANCE = 1e-3;
/** Digits in the direct run: WebGPU on SwiftShader is ~100× slower than WASM. */
const DIRECT_DIGITS = 4;

test('WebGPU: a donor tab with --enable-unsafe-webgpu runs tasks on the WebGPU EP within tolerance', async ({
  startGrid,
}) => {
  const grid = await startGrid({ donorTabs: 0, nodeWorkers: 0 });
  const sub = grid.submitter!;
  const gpuBrowser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'],
  });
  try {
    const gpu = await openTab(gpuBrowser, grid.signaling.httpUrl, {
      grid: grid.name,
      gpu: true,
      name: 'webgpu-donor',
    });
    const reference = await mnistReference(20, 10);

    // Directly through the tab's executor: the task runs on WebGPU and agrees with WASM.
    const direct = await gpu.page.evaluate(async (n) => {
      const get = async (u: string) => new Uint8Array(await (await fetch(u)).arrayBuffer());
      const model = await get('samples/mnist-mlp.onnx');
      const npy = await get('samples/mnist-test-1000.npy');
      const header = 10 + ((npy[8] as number) | ((npy[9] as number) << 8));
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', model));
      const hash = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
      const res = await window.peergrid!.executor.run({
        modelHash: hash,
        model,
        feeds: {
          pixels: { dtype: 'uint8', dims: [n, 784], data: npy.slice(header, header + 784 * n) },
        },
        outputs: ['logits'],
        timeoutMs: 120_000,
        backend: 'webgpu',
      });
      const bytes = res.outputs.logits!.data.slice();
      return { backend: res.backend, logits: Array.from(new Float32Array(bytes.buffer)) };
    }, DIRECT_DIGITS);
    expect(direct.backend).toBe('webgpu');
    expect(maxAbsDiff(direct.logits, reference.logits.slice(0, DIRECT_DIGITS * 10))).toBeLessThan(
      GPU_TOLERANCE,
    );
    await expect(gpu.page.getByTestId('backend')).toHaveAttribute('data-backend', 'webgpu');

    // Through the grid: the submitter (WASM) and the WebGPU tab each run every task (2 replicas,
    // 2 donors) and their answers agree. The page announces its backends when they change only
    // on a settings change, so re-announce now that the worker has found WebGPU.
    await gpu.page.evaluate(() => window.peergrid!.setWorkers(1));
    await waitForMesh([sub, gpu], [sub.id, gpu.id], 30_000);
    await expect
      .poll(() =>
        sub.page.evaluate(
          (id) =>
            (window.peergrid!.grid.get().peers.find((p) => p.id === id)?.capabilities?.backends ??
              []) as string[],
          gpu.id,
        ),
      )
      .toContain('webgpu');
    // Record the backend of every run the GPU tab's executor does for the grid.
    await gpu.page.evaluate(() => {
      const ex = window.peergrid!.executor;
      const run = ex.run.bind(ex);
      const used: string[] = [];
      (window as unknown as { __gridBackends: string[] }).__gridBackends = used;
      ex.run = async (req) => {
        const r = await run(req);
        used.push(r.backend);
        return r;
      };
    });
    const jobId = await submitMnist(sub.page, { digits: 20, batch: 10, replicas: 2, quorum: 2 });
    const detail = await waitCompleted(sub.page, jobId, 150_000);
    const out = await mnistOutput(sub.page, jobId);
    expect(out.labels).toEqual(reference.labels);
    expect(maxAbsDiff(out.logits, reference.logits)).toBeLessThan(GPU_TOLERANCE);
    const row = detail.donors.find((d) => d.id === gpu.id);
    expect(row?.results ?? 0).toBeGreaterThan(0);
    expect(row?.agreed ?? 0).toBeGreaterThan(0);
    expect(detail.disagreements).toBe(0);
    const used = await gpu.page.evaluate(
      () => (window as unknown as { __gridBackends: string[] }).__gridBackends,
    );
    expect(used.length).toBeGreaterThan(0);
    expect(used).toContain('webgpu');
    await gpu.close();
  } finally {
    await gpuBrowser.close();
  }
});

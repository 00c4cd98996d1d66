/**
 * WebGPU device loss in a donor tab (SwiftShader): the device is destroyed
 * mid-task, as a driver reset would; the run ends as a retryable
 * `device-lost` error (never as a result), the worker starts over with a
 * new device, and the next run is right again.
 */
import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumPath } from '../chromium.ts';
import { expect, test } from '../harness/fixtures.ts';
import { maxAbsDiff } from '../harness/jobs.ts';
import { mnistReference } from '../harness/reference.ts';
import { openTab } from '../harness/tabs.ts';

/** WebGPU (SwiftShader here) and WASM differ in the last bits of float sums: well under this. */
const GPU_TOLERANCE = 1e-3;

test('a lost WebGPU device mid-task is a device-lost error, and the next task runs on a new device', async ({
  startGrid,
}) => {
  const grid = await startGrid({ donorTabs: 0, nodeWorkers: 0, submitter: false });
  const reference = await mnistReference(4, 4);
  /** One browser and tab through the whole scenario; what the page warned of, for a failure. */
  const attempt = async (n: number) => {
    const gpuBrowser = await chromium.launch({
      executablePath: chromiumPath(),
      headless: true,
      args: [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'],
    });
    const warnings: string[] = [];
    try {
      const tab = await openTab(gpuBrowser, grid.signaling.httpUrl, {
        grid: grid.name,
        gpu: true,
        name: `webgpu-donor-${n}`,
      });
      tab.page.on('console', (m) => {
        if (m.type() === 'warning' || m.type() === 'error') warnings.push(m.text());
      });
      // Its worker found the SwiftShader adapter (the GPU probe runs a few seconds after the join).
      await tab.page.evaluate(() => window.peergrid!.executor.backends());
      await expect(tab.page.getByTestId('backend')).toHaveAttribute('data-backend', 'webgpu', {
        timeout: 60_000,
      });
      const stagesSoFar = () =>
        tab.page.evaluate(() => (window as unknown as { __stages?: string[] }).__stages ?? []);
      const timer = setInterval(
        () =>
          void stagesSoFar().then(
            (s) => console.info(`stages ${s.join(' | ')}`),
            () => {},
          ),
        15_000,
      );
      const out = await tab.page.evaluate(async () => {
        const pool = (
          window as unknown as {
            peergrid: {
              executor: {
                run(
                  req: unknown,
                ): Promise<{ backend: string; outputs: Record<string, { data: Uint8Array }> }>;
                destroyGpuDevices(): Promise<number>;
              };
            };
          }
        ).peergrid.executor;
        const get = async (u: string) => new Uint8Array(await (await fetch(u)).arrayBuffer());
        const model = await get('samples/mnist-mlp.onnx');
        const npy = await get('samples/mnist-test-1000.npy');
        const header = 10 + ((npy[8] as number) | ((npy[9] as number) << 8));
        const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', model));
        const modelHash = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
        const req = (n: number) => ({
          modelHash,
          model,
          feeds: {
            pixels: { dtype: 'uint8', dims: [n, 784], data: npy.slice(header, header + 784 * n) },
          },
          outputs: ['logits'],
          timeoutMs: 300_000,
          backend: 'webgpu',
        });
        const stages: string[] = [];
        (window as unknown as { __stages: string[] }).__stages = stages;
        // Warm: the session (and its device) exist before the long run starts.
        const warm = await pool.run(req(1));
        stages.push(`warm ${warm.backend}`);
        // A long run (1000 digits: seconds on SwiftShader), and the device destroyed under it.
        const long = pool.run(req(1000)).then(
          (r) => ({ ok: true as const, backend: r.backend }),
          (e: { code?: string; message?: string }) => ({
            ok: false as const,
            code: e.code,
            message: e.message,
          }),
        );
        await new Promise((r) => setTimeout(r, 200));
        const destroyed = await pool.destroyGpuDevices();
        stages.push(`destroyed ${destroyed}`);
        const lost = await long;
        stages.push(`lost ${JSON.stringify(lost)}`);
        const again = await pool.run(req(4));
        stages.push(`again ${again.backend}`);
        const bytes = again.outputs.logits!.data.slice();
        return {
          warm: warm.backend,
          destroyed,
          lost,
          again: again.backend,
          logits: Array.from(new Float32Array(bytes.buffer)),
        };
      });
      clearInterval(timer);
      return { out, warnings };
    } finally {
      await gpuBrowser.close();
    }
  };
  // In two of three fresh-clone CI runs the first session ran on WASM (the cause is not found
  // yet; the page's warning, printed here, says why WebGPU failed), leaving no device to lose:
  // a fresh browser tries again, at most twice more.
  let run = await attempt(0);
  for (let n = 1; n < 3 && run.out.warm !== 'webgpu'; n++) {
    console.info(
      `gpu-device-loss: attempt ${n} ran on ${run.out.warm}: ${run.warnings.join(' | ')}`,
    );
    run = await attempt(n);
  }
  const { out, warnings } = run;
  console.info(`gpu-device-loss ${JSON.stringify({ ...out, logits: out.logits.length })}`);
  expect(out.warm, warnings.join('\n')).toBe('webgpu');
  expect(out.destroyed).toBe(1);
  expect(out.lost).toMatchObject({ ok: false, code: 'device-lost' });
  // A fresh worker, a fresh device (or WASM where none can be had): right again.
  expect(['webgpu', 'wasm']).toContain(out.again);
  expect(maxAbsDiff(out.logits, reference.logits.slice(0, 40))).toBeLessThan(GPU_TOLERANCE);
});

/**
 * A job of N tiny tasks as a page user submits it: a job manifest fanning
 * one near-empty model (matmul `tiny`: an Identity over 4-wide rows) out
 * over the rows of one .npy (`forEach: {rows: 1}` → one `TaskGroup`, task
 * `mm-i` takes row i), through the Submit view's "A job manifest".
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNpy, type Tensor } from '@peergrid/shared';
import type { Page } from '@playwright/test';
import { createMatmulInput, createMatmulModel } from '../../node-worker/src/workloads/index.ts';

/** Width of a tiny task's row (matmul preset `tiny`). */
export const TINY_WIDTH = 4;

export interface GroupJobFiles {
  readonly manifest: string;
  /** The model and the input the manifest names. */
  readonly files: readonly string[];
  /** The input rows, [tasks, TINY_WIDTH] float32: task i's output equals row i. */
  readonly input: Tensor;
}

/** Writes job.json, tiny.onnx and x.npy for `tasks` tiny tasks into `dir`. */
export function writeTinyGroupJob(
  dir: string,
  tasks: number,
  policy: Readonly<Record<string, unknown>> = { replicas: 1, quorum: 1 },
): GroupJobFiles {
  const model = join(dir, 'tiny.onnx');
  const x = join(dir, 'x.npy');
  const manifest = join(dir, 'job.json');
  const input = createMatmulInput(tasks, TINY_WIDTH, 1);
  writeFileSync(model, createMatmulModel({ size: TINY_WIDTH, layers: 0 }));
  writeFileSync(x, encodeNpy(input));
  writeFileSync(
    manifest,
    JSON.stringify({
      name: `tiny-${tasks}`,
      models: { tiny: 'tiny.onnx' },
      tasks: [
        {
          id: 'mm',
          model: 'tiny',
          forEach: { rows: 1 },
          feeds: { x: { file: 'x.npy', split: true } },
        },
      ],
      policy,
    }),
  );
  return { manifest, files: [model, x], input };
}

/** Task i's expected output: row i of the input (the model is an Identity). */
export function tinyRow(input: Tensor, i: number): number[] {
  const f = new Float32Array(input.data.buffer, input.data.byteOffset, input.data.byteLength / 4);
  return Array.from(f.subarray(i * TINY_WIDTH, (i + 1) * TINY_WIDTH));
}

/** Fills in the Submit view's manifest form and submits; resolves with the job id, or throws the refusal. */
export async function submitManifestJob(page: Page, job: GroupJobFiles): Promise<string> {
  await page.getByTestId('nav-submit').click();
  await page.getByTestId('sample-manifest').click();
  await page.getByTestId('manifest-file').setInputFiles(job.manifest);
  await page.getByTestId('manifest-files').setInputFiles([...job.files]);
  await page.getByTestId('submit-job').click();
  const error = page.getByTestId('submit-error');
  const went = page.waitForURL(/#\/jobs\/[^/]+$/, { timeout: 120_000 }).then(() => 'went' as const);
  const refused = error.waitFor({ timeout: 120_000 }).then(() => 'refused' as const);
  went.catch(() => {});
  refused.catch(() => {});
  if ((await Promise.race([went, refused])) === 'refused')
    throw new Error(`submit refused: ${await error.textContent()}`);
  const id = decodeURIComponent(new URL(page.url()).hash.replace(/^#\/jobs\//, ''));
  await page.locator(`[data-testid="job-view"][data-job-id="${id}"]`).waitFor({ timeout: 60_000 });
  return id;
}

/** A page of the job's results from the page's test hook: task ids and their `y` rows. */
export function resultsPage(
  page: Page,
  jobId: string,
  offset: number,
  limit: number,
): Promise<{ total: number; offset: number; tasks: { id: string; y: number[] | null }[] } | null> {
  return page.evaluate(
    async ([id, off, lim]) => {
      const r = await window.peergrid?.jobResults(id as string, {
        offset: off as number,
        limit: lim as number,
      });
      if (!r) return null;
      return {
        total: r.total ?? r.tasks.length,
        offset: r.offset ?? 0,
        tasks: r.tasks.map((t) => {
          const y = t.outputs?.y;
          if (!y) return { id: t.taskId, y: null };
          const b = y.data.slice();
          return { id: t.taskId, y: Array.from(new Float32Array(b.buffer, 0, b.byteLength / 4)) };
        }),
      };
    },
    [jobId, offset, limit] as const,
  );
}

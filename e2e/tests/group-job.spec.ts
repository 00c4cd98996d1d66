/**
 * A job larger than the page's per-task window, submitted as a user would: a
 * manifest fanning a tiny model out over the 3,000 rows of one .npy (one
 * task group). The submitter tab keeps 300 verified tasks in memory
 * (`?resident=300`: the rest retire to IndexedDB), shows counts and a window
 * of the task grid, is reloaded mid-job and resumes from IndexedDB, and at
 * the end lists every result page by page and downloads them all as .npz
 * and as one stacked .npy, each equal to its input row (the model is an
 * Identity).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy, decodeNpz } from '@peergrid/shared';
import { expect, test } from '../harness/fixtures.ts';
import {
  resultsPage,
  submitManifestJob,
  TINY_WIDTH,
  tinyRow,
  writeTinyGroupJob,
} from '../harness/group-job.ts';
import { storedResults, waitCompleted, waitJob } from '../harness/jobs.ts';
import { waitJoined } from '../harness/tabs.ts';

const TASKS = 3_000;
/** Verified group tasks the submitter's engine keeps in memory. */
const RESIDENT = 300;
/** Tasks the page's task grid shows at most (TASK_WINDOW in web-client/src/grid/task-states.ts). */
const WINDOW = 2_000;

test('group job: 3,000 tiny tasks from a manifest, a bounded task window, a reload mid-job, every result listed and downloaded', async ({
  startGrid,
}) => {
  test.setTimeout(300_000);
  const grid = await startGrid({ donorTabs: 0, nodeWorkers: 2 });
  const sub = grid.submitter!;
  const page = sub.page;
  await page.goto(`${sub.url}&resident=${RESIDENT}#/submit`);
  expect(await waitJoined(page)).toBe(sub.id);
  const dir = mkdtempSync(join(tmpdir(), 'peergrid-e2e-group-'));
  try {
    const job = writeTinyGroupJob(dir, TASKS);
    const jobId = await submitManifestJob(page, job);

    // Mid-job, past what stays resident: counts over the whole job, a window of cells.
    const mid = await waitJob(page, jobId, (d) => d.verified >= 2 * RESIDENT, 120_000);
    expect(mid.total).toBe(TASKS);
    expect(mid.allTasks).toBe(false);
    expect(mid.tasks.length).toBeLessThanOrEqual(WINDOW);
    expect(Object.values(mid.taskCounts ?? {}).reduce((a, b) => a + b, 0)).toBe(TASKS);
    await expect(page.getByTestId('task-window')).toBeVisible();
    expect(await page.getByTestId('task-cell').count()).toBeLessThanOrEqual(WINDOW);

    // Reload mid-job: the job comes back from IndexedDB with what was stored.
    const stored = await storedResults(page, jobId);
    expect(stored).toBeLessThan(TASKS);
    await page.reload();
    expect(await waitJoined(page)).toBe(sub.id);
    const resumed = await waitJob(page, jobId, () => true, 60_000);
    expect(resumed.verified).toBeGreaterThanOrEqual(stored);

    const done = await waitCompleted(page, jobId, 240_000);
    expect([done.verified, done.failed, done.total]).toEqual([TASKS, 0, TASKS]);

    // Every result, a page at a time (retired ones read from IndexedDB), equals its input row.
    const wrong: string[] = [];
    for (let offset = 0; offset < TASKS; offset += 1_000) {
      const r = await resultsPage(page, jobId, offset, 1_000);
      expect([r?.total, r?.offset, r?.tasks.length]).toEqual([TASKS, offset, 1_000]);
      r?.tasks.forEach((t, k) => {
        const i = offset + k;
        if (t.id !== `mm-${i}` || JSON.stringify(t.y) !== JSON.stringify(tinyRow(job.input, i)))
          wrong.push(`${t.id}: ${JSON.stringify(t.y)}`);
      });
    }
    expect(wrong.slice(0, 5)).toEqual([]);

    // The job view pages its results table.
    await expect(page.getByTestId('results-range')).toHaveText(/tasks 1–1,000 of 3,000/);
    await page.getByTestId('results-next').click();
    await expect(page.getByTestId('results-range')).toHaveText(/tasks 1,001–2,000 of 3,000/);

    // The .npz holds all 3,000, read from IndexedDB a page at a time.
    const download = page.waitForEvent('download');
    await page.getByTestId('download-npz').click();
    const npz = decodeNpz(new Uint8Array(readFileSync(await (await download).path())));
    if (!npz.ok) throw new Error(npz.error);
    const entries = Object.entries(npz.tensors);
    expect(entries).toHaveLength(TASKS);
    for (const [name, t] of entries) {
      const i = Number(/^mm-(\d+)\/y$/.exec(name)?.[1] ?? -1);
      const f = new Float32Array(t.data.slice().buffer);
      if (i < 0 || JSON.stringify(Array.from(f)) !== JSON.stringify(tinyRow(job.input, i)))
        wrong.push(name);
    }
    expect(wrong.slice(0, 5)).toEqual([]);

    // NPY: the output of every task stacked in the job's order, read from IndexedDB page by page.
    const npyDownload = page.waitForEvent('download');
    await page.locator('[data-testid="download-npy"][data-output="y"]').click();
    const npy = decodeNpy(new Uint8Array(readFileSync(await (await npyDownload).path())));
    if (!npy.ok) throw new Error(npy.error);
    expect(npy.tensor.dims).toEqual([TASKS, TINY_WIDTH]);
    expect(Buffer.from(npy.tensor.data).equals(Buffer.from(job.input.data))).toBe(true);
    expect(grid.problems()).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

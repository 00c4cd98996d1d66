import { expect, test } from '../harness/fixtures.ts';
import { donorLog, maxAbsDiff, mnistOutput, submitMnist, waitCompleted } from '../harness/jobs.ts';
import { mnistReference } from '../harness/reference.ts';

/** WASM in the page and onnxruntime-node agree on these logits to about 1e-5; labels exactly. */
const LOGIT_TOLERANCE = 1e-3;

test('mesh: 6 donor tabs and 2 node workers run the MNIST sample to the local reference', async ({
  startGrid,
}) => {
  const grid = await startGrid({ donorTabs: 6, nodeWorkers: 2 });
  const sub = grid.submitter!;
  const reference = mnistReference(1000, 10);

  // Every donor takes part: a job no longer waits for a straggler, so each tab has its workers
  // and ONNX Runtime up (they would start a few seconds after its join) and offers them before
  // the job, and the job is long enough (100 tasks) for every donor's first results to count.
  await Promise.all(
    grid.donors.map((t) => t.page.evaluate(() => window.peergrid!.executor.backends())),
  );
  const donorIds = grid.donors.map((t) => t.id);
  await sub.page.waitForFunction(
    (ids) => {
      const peers = window.peergrid!.grid.get().peers as readonly {
        id: string;
        capabilities: { maxConcurrency?: number } | null;
      }[];
      return ids.every((id) =>
        peers.some((p) => p.id === id && (p.capabilities?.maxConcurrency ?? 0) > 0),
      );
    },
    donorIds,
    { timeout: 30_000 },
  );
  const jobId = await submitMnist(sub.page, { digits: 1000, batch: 10, replicas: 2, quorum: 2 });
  const detail = await waitCompleted(sub.page, jobId, 150_000);

  // The output equals the local reference.
  const ref = await reference;
  const out = await mnistOutput(sub.page, jobId);
  expect(out.missing).toEqual([]);
  expect(out.taskIds).toHaveLength(100);
  expect(out.labels).toEqual(ref.labels);
  expect(maxAbsDiff(out.logits, ref.logits)).toBeLessThan(LOGIT_TOLERANCE);

  // The page shows the job complete, every task verified by agreement.
  await expect(sub.page.getByTestId('tasks-verified')).toHaveText('100');
  await expect(sub.page.getByTestId('tasks-total')).toHaveText('100');
  await expect(sub.page.locator('[data-testid="task-cell"][data-state="verified"]')).toHaveCount(
    100,
  );
  await expect(sub.page.getByTestId('result-summary')).toContainText('1000 digits');
  expect(detail.tasks.every((t) => t.state === 'verified' && t.leases >= 2)).toBe(true);
  // Every result final: its error bound under the target (the submitter's own tab is an anchor).
  expect(detail.final).toBe(100);
  expect(detail.achievedError).not.toBeNull();
  expect(detail.achievedError!).toBeLessThanOrEqual(detail.targetError);
  await expect(sub.page.getByTestId('results-final')).toHaveText('100');
  await expect(sub.page.getByTestId('target-error')).toHaveText('1e-4');
  await expect(sub.page.locator(`[data-testid="anchor-row"][data-peer="${sub.id}"]`)).toBeVisible();
  expect(detail.audits.failed).toBe(0);
  expect(detail.excludedDonors).toEqual([]);

  // Every donor did work: the submitter's donor table and each donor's own counter say so.
  const worked = new Map(detail.donors.map((d) => [d.id, d.results]));
  for (const t of grid.donors) {
    const log = `${t.name} returned results:\n${donorLog(detail, t.id)}`;
    expect(worked.get(t.id) ?? 0, log).toBeGreaterThan(0);
    expect(Number(await t.page.getByTestId('tasks-done').textContent())).toBeGreaterThan(0);
  }
  for (const w of grid.workers)
    expect(
      worked.get(w.id) ?? 0,
      `${w.child.name} returned results:\n${donorLog(detail, w.id)}`,
    ).toBeGreaterThan(0);
  expect(detail.disagreements).toBe(0);
  expect(grid.problems()).toEqual([]);
});

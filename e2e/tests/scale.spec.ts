import { expect, test } from '../harness/fixtures.ts';
import { mnistOutput, submitMnist, waitCompleted } from '../harness/jobs.ts';
import { mnistReference } from '../harness/reference.ts';

test('scale: 16 tabs and 4 node workers form the grid and finish a short job', async ({
  startGrid,
}, testInfo) => {
  test.setTimeout(300_000);
  // 16 tabs: the submitter and 15 donors, each its own context in one browser.
  const grid = await startGrid({ donorTabs: 15, nodeWorkers: 4 });
  expect(grid.tabs()).toHaveLength(16);
  expect(grid.ids()).toHaveLength(20);
  testInfo.annotations.push({ type: 'formation', description: `${grid.formationMs} ms` });
  await expect.poll(() => grid.signaling.health().then((h) => h.peers)).toBe(20);
  for (const t of grid.donors.slice(0, 3))
    await expect(t.page.getByTestId('peer-count')).toHaveText('19');

  const reference = mnistReference(100, 10);
  const jobId = await submitMnist(grid.submitter!.page, { digits: 100, batch: 10 });
  const detail = await waitCompleted(grid.submitter!.page, jobId, 200_000);
  const out = await mnistOutput(grid.submitter!.page, jobId);
  expect(out.missing).toEqual([]);
  expect(out.labels).toEqual((await reference).labels);
  // The work spread over the grid: more donors took part than one task's replicas.
  expect(detail.donors.filter((d) => d.results > 0).length).toBeGreaterThan(4);
});

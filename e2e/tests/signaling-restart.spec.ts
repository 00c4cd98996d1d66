import { expect, test } from '../harness/fixtures.ts';
import {
  jobDetail,
  maxAbsDiff,
  mnistOutput,
  submitMnist,
  waitCompleted,
  waitJob,
} from '../harness/jobs.ts';
import { mnistReference } from '../harness/reference.ts';
import { waitForMesh } from '../harness/tabs.ts';

test('signaling restart mid-job: the job goes on over open data channels and peers rejoin', async ({
  startGrid,
}, testInfo) => {
  const grid = await startGrid({ donorTabs: 4, nodeWorkers: 1 });
  const sub = grid.submitter!;
  const reference = mnistReference(500, 10);
  const jobId = await submitMnist(sub.page, { digits: 500, batch: 10, replicas: 2, quorum: 2 });
  await waitJob(sub.page, jobId, (d) => d.verified >= 5, 120_000);

  await grid.signaling.kill();
  const atKill = (await jobDetail(sub.page, jobId))!;
  for (const t of grid.tabs())
    await expect(t.page.getByTestId('signal-status')).not.toHaveAttribute('data-status', 'online');
  // With the server down, tasks still flow over the open channels.
  const during = await waitJob(
    sub.page,
    jobId,
    (d) => d.verified > atKill.verified + 2 || d.state === 'completed',
    60_000,
  );
  testInfo.annotations.push({
    type: 'outage',
    description: `${atKill.verified} verified at the kill, ${during.verified} while signaling was down`,
  });

  await grid.signaling.restart();
  const detail = await waitCompleted(sub.page, jobId, 150_000);
  const ref = await reference;
  const out = await mnistOutput(sub.page, jobId);
  expect(out.missing).toEqual([]);
  expect(out.labels).toEqual(ref.labels);
  expect(maxAbsDiff(out.logits, ref.logits)).toBeLessThan(1e-3);
  expect(detail.failed).toBe(0);

  // Everyone is back: online, on the new server, and in each other's peer lists.
  for (const t of grid.tabs())
    await expect(t.page.getByTestId('signal-status')).toHaveAttribute('data-status', 'online', {
      timeout: 60_000,
    });
  await waitForMesh(grid.tabs(), grid.ids(), 60_000);
  await expect
    .poll(() => grid.signaling.health().then((h) => h.peers), { timeout: 60_000 })
    .toBe(grid.ids().length);
});

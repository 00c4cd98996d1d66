import { expect, test } from '../harness/fixtures.ts';
import {
  maxAbsDiff,
  mnistOutput,
  shortId,
  submitMnist,
  waitCompleted,
  waitJob,
} from '../harness/jobs.ts';
import { mnistReference } from '../harness/reference.ts';

test('churn: 2 donor tabs closed and a node worker SIGKILLed mid-job; no task lost', async ({
  startGrid,
}, testInfo) => {
  const grid = await startGrid({ donorTabs: 6, nodeWorkers: 2 });
  const sub = grid.submitter!;
  const reference = mnistReference(200, 10);
  const jobId = await submitMnist(sub.page, { digits: 200, batch: 10, replicas: 2, quorum: 2 });

  // Mid-job: some tasks verified, most not. Every donor holds a lease at almost any moment.
  const before = await waitJob(sub.page, jobId, (d) => d.verified >= 4, 120_000);
  expect(before.verified).toBeLessThan(before.total);
  const [gone1, gone2] = grid.donors as [(typeof grid.donors)[0], (typeof grid.donors)[0]];
  const killed = grid.workers[0]!;
  await Promise.all([gone1.close(), gone2.close(), killed.kill()]);
  const goneIds = new Set([gone1.id, gone2.id, killed.id]);

  const detail = await waitCompleted(sub.page, jobId, 150_000);
  const ref = await reference;
  const out = await mnistOutput(sub.page, jobId);
  // No task lost: every task verified, each with an accepted output equal to the reference.
  expect(detail.failed).toBe(0);
  expect(detail.tasks.filter((t) => t.state !== 'verified')).toEqual([]);
  expect(out.missing).toEqual([]);
  expect(out.taskIds).toHaveLength(20);
  expect(out.labels).toEqual(ref.labels);
  expect(maxAbsDiff(out.logits, ref.logits)).toBeLessThan(1e-3);

  // The survivors finished the job: the departed stopped reporting.
  const survivors = detail.donors.filter((d) => !goneIds.has(d.id) && d.results > 0);
  expect(survivors.length).toBeGreaterThanOrEqual(4);
  // The departed held leases when they left: those were lost and handed out again.
  const goneShort = [...goneIds].map(shortId);
  const reissued = detail.events.filter(
    (e) => / lost | could not run /.test(e.text) && goneShort.some((g) => e.text.startsWith(g)),
  ).length;
  expect(reissued).toBeGreaterThan(0);
  testInfo.annotations.push({
    type: 'churn',
    description: `killed at ${before.verified}/${before.total} verified; ${reissued} leases lost or failed in the last ${detail.events.length} events`,
  });
  // The submitter's grid view no longer lists the departed peers.
  await expect
    .poll(async () =>
      sub.page.evaluate(
        (gone) =>
          (window.peergrid?.grid.get().peers ?? []).filter((p) => gone.includes(p.id)).length,
        [...goneIds],
      ),
    )
    .toBe(0);
});

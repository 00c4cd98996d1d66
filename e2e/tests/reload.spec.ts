import { expect, test } from '../harness/fixtures.ts';
import {
  maxAbsDiff,
  mnistOutput,
  storedResults,
  submitMnist,
  waitCompleted,
  waitJob,
} from '../harness/jobs.ts';
import { mnistReference } from '../harness/reference.ts';
import { waitJoined } from '../harness/tabs.ts';

/** Time the page may take to store what it shows, ms. */
const STORE_GRACE_MS = 1_000;

test('submitter reload mid-job: resumes from IndexedDB without recomputing accepted results', async ({
  startGrid,
}, testInfo) => {
  const grid = await startGrid({ donorTabs: 4, nodeWorkers: 0 });
  const sub = grid.submitter!;
  // Slow donors (CPU throttled 6×, as phones would be): on this grid the 100 tasks would
  // otherwise finish between two polls, and the reload must come mid-job.
  for (const tab of grid.donors) {
    const cdp = await tab.context.newCDPSession(tab.page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 6 });
  }
  const reference = mnistReference(1000, 10);
  const jobId = await submitMnist(sub.page, { digits: 1000, batch: 10, replicas: 2, quorum: 2 });

  const before = await waitJob(sub.page, jobId, (d) => d.verified >= 10, 120_000);
  expect(before.verified).toBeLessThan(before.total);
  const snap = await waitJob(sub.page, jobId, () => true, 5_000);
  const accepted = new Set(snap.tasks.filter((t) => t.state === 'verified').map((t) => t.id));
  const outputsBefore = await mnistOutput(sub.page, jobId);
  expect(outputsBefore.byTask.size).toBeGreaterThanOrEqual(accepted.size);
  // The page stores each change right after showing it (a chain of IndexedDB writes): results
  // shown this long before the reload must all be kept. (The benchmark measures an immediate reload.)
  await sub.page.waitForTimeout(STORE_GRACE_MS);
  const storedAtReload = await storedResults(sub.page, jobId);
  const reloadedAt = Date.now();
  await sub.page.reload();
  const selfAfter = await waitJoined(sub.page);
  expect(selfAfter).toBe(sub.id); // same identity, from IndexedDB

  // The job comes back from IndexedDB with its accepted results.
  const resumed = await waitJob(sub.page, jobId, () => true, 30_000);
  const kept = resumed.tasks.filter((t) => t.state === 'verified' && accepted.has(t.id));
  testInfo.annotations.push({
    type: 'resume',
    description: `${accepted.size} accepted before the reload (${storedAtReload} in IndexedDB), ${kept.length} kept after it, ${resumed.verified} verified on resume`,
  });
  expect(kept.length, testInfo.annotations.at(-1)?.description).toBe(accepted.size);

  const detail = await waitCompleted(sub.page, jobId, 150_000);
  // Not recomputed: after the reload exactly the tasks not kept were verified, each once. (The
  // throughput series has one point per verification, over the whole stored event log.)
  const verifiedAfter = detail.throughput.filter(([at], i) => i > 0 && at >= reloadedAt).length;
  const restored = detail.throughput.filter(([at]) => at < reloadedAt).at(-1)?.[1] ?? 0;
  expect(restored).toBeGreaterThanOrEqual(accepted.size);
  expect(verifiedAfter).toBe(detail.total - restored);
  expect(detail.throughput.at(-1)?.[1]).toBe(detail.total);
  // Every kept result was final when stored: none was re-opened after the reload.
  expect(detail.events.filter((e) => / re-opened/.test(e.text))).toEqual([]);
  const ref = await reference;
  const out = await mnistOutput(sub.page, jobId);
  expect(out.missing).toEqual([]);
  expect(out.labels).toEqual(ref.labels);
  expect(maxAbsDiff(out.logits, ref.logits)).toBeLessThan(1e-3);
  // The outputs accepted before the reload are the ones kept (same bytes, not a new run).
  for (const id of accepted) {
    expect(outputsBefore.byTask.get(id), `${id} before`).toBeDefined();
    expect(out.byTask.get(id), `${id} after`).toEqual(outputsBefore.byTask.get(id));
  }
});

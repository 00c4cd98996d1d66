import { expect, test } from '../harness/fixtures.ts';
import { maxAbsDiff, mnistOutput, submitMnist, waitCompleted } from '../harness/jobs.ts';
import { mnistReference } from '../harness/reference.ts';

test('saboteur: a node worker returning wrong outputs is excluded and none of its answers kept', async ({
  startGrid,
}) => {
  // Exclusion needs anchor evidence (or repeated losses against credible donors): a result of the
  // submitter's own tab, an anchor, contradicting the saboteur's. A dispute goes to the anchor
  // first, so the saboteur is caught on its first contradicted task.
  const grid = await startGrid({ donorTabs: 2, nodeWorkers: 1, saboteurs: 1 });
  const sub = grid.submitter!;
  const saboteur = grid.saboteurs[0]!;
  await saboteur.child.waitFor(/TEST-ONLY SABOTAGE/, 1_000);
  const reference = mnistReference(1000, 10);
  // Logits within a tolerance, not argmax labels: the saboteur adds 1 to every logit, which keeps
  // every label. (WASM in the page and onnxruntime-node agree to about 1e-5.)
  const jobId = await submitMnist(sub.page, {
    digits: 1000,
    batch: 10,
    replicas: 2,
    quorum: 2,
    tolerance: 1e-3,
  });
  const detail = await waitCompleted(sub.page, jobId, 170_000);

  // It was given work, contradicted, and excluded.
  const row = detail.donors.find((d) => d.id === saboteur.id);
  expect(row, 'the saboteur appears among the donors').toBeDefined();
  expect(row!.results).toBeGreaterThan(0);
  expect(row!.excluded).toBe(true);
  expect(row!.agreed).toBe(0);
  expect(detail.disagreements).toBeGreaterThan(0);
  const why = detail.excludedDonors.find((x) => x.donor === saboteur.id)?.reason;
  expect(why, 'the saboteur is listed excluded, with the reason').toMatch(/contradicted an anchor/);
  await expect(
    sub.page.locator(`[data-testid="excluded-row"][data-peer="${saboteur.id}"]`),
  ).toContainText('contradicted an anchor');
  expect(detail.anchors.map((a) => a.id)).toEqual([sub.id]);
  expect(detail.final).toBe(detail.total);
  expect(
    Number(await sub.page.getByTestId('verify-excluded').textContent()),
  ).toBeGreaterThanOrEqual(1);
  expect(Number(await sub.page.getByTestId('verify-disagreements').textContent())).toBeGreaterThan(
    0,
  );

  // None of its results was accepted: every accepted output is the reference (its outputs are
  // the reference + 1, node-worker/src/worker/test-sabotage.ts).
  const ref = await reference;
  const out = await mnistOutput(sub.page, jobId);
  expect(out.missing).toEqual([]);
  expect(out.labels).toEqual(ref.labels);
  expect(maxAbsDiff(out.logits, ref.logits)).toBeLessThan(1e-3);
  // Honest donors agreed throughout.
  for (const d of detail.donors.filter((x) => x.id !== saboteur.id)) expect(d.excluded).toBe(false);
});

import { DEFAULT_POLICY } from '@peergrid/shared';
import { expect, test } from '../harness/fixtures.ts';
import { submitMnist, waitCompleted } from '../harness/jobs.ts';
import type { Tab } from '../harness/tabs.ts';

test('screenshots of the donate, submit, job and mesh views are saved as artifacts', async ({
  startGrid,
}, testInfo) => {
  const grid = await startGrid({ donorTabs: 2, nodeWorkers: 1 });
  const sub = grid.submitter!;
  const donor = grid.donors[0]!;

  const shoot = async (tab: Tab, name: string) => {
    const path = testInfo.outputPath(`${name}.png`);
    const png = await tab.page.screenshot({ path, fullPage: true });
    // A PNG of a rendered page, not an empty frame.
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.byteLength).toBeGreaterThan(10_000);
    await testInfo.attach(`${name}.png`, { path, contentType: 'image/png' });
  };

  // Submit: the form filled in for the MNIST sample.
  await sub.page.getByTestId('nav-submit').click();
  await sub.page.getByTestId('sample-mnist').click();
  await expect(sub.page.getByTestId('sample-mnist')).toHaveAttribute('aria-pressed', 'true');
  await expect(sub.page.getByTestId('submit-job')).toBeEnabled();
  // The trust fields start at the engine's defaults; bad values are refused in words, unsent.
  await expect(sub.page.getByTestId('policy-target-error')).toHaveValue('1e-4');
  await expect(sub.page.getByTestId('policy-max-replicas')).toHaveValue(
    String(DEFAULT_POLICY.maxReplicas),
  );
  for (const [field, value, says] of [
    ['policy-target-error', '2', 'target error must be a number above 0 and below 1'],
    ['policy-audit-rate', '100', 'audit rate must be a percentage'],
    ['policy-trusted-donors', 'not-a-peer-id', '"not-a-peer-id" is not a peer id'],
  ] as const) {
    const input = sub.page.getByTestId(field);
    const before = await input.inputValue();
    await input.fill(value);
    await sub.page.getByTestId('submit-job').click();
    await expect(sub.page.getByTestId('submit-error')).toContainText(says);
    await input.fill(before);
  }
  expect(sub.page.url()).not.toMatch(/#\/jobs\//);
  await shoot(sub, 'submit');

  // Job: a finished job with its task grid, donors and results.
  const jobId = await submitMnist(sub.page, { digits: 100, batch: 10 });
  await waitCompleted(sub.page, jobId, 150_000);
  await expect(sub.page.locator('[data-testid="task-cell"][data-state="verified"]')).toHaveCount(
    10,
  );
  await expect(sub.page.getByTestId('donor-row').first()).toBeVisible();
  await expect(sub.page.getByTestId('digit-result').first()).toBeVisible();
  await shoot(sub, 'job');

  // Donate: a donor tab after it ran tasks.
  await expect(donor.page.getByTestId('donor-state')).toHaveAttribute('data-state', 'donating');
  await expect
    .poll(async () => Number(await donor.page.getByTestId('tasks-done').textContent()))
    .toBeGreaterThan(0);
  await shoot(donor, 'donate');

  // Mesh: every member drawn, the submitter's open channels shown.
  await sub.page.getByTestId('nav-mesh').click();
  await expect(sub.page.getByTestId('mesh-node')).toHaveCount(grid.ids().length);
  await expect(sub.page.getByTestId('mesh-peer')).not.toHaveCount(0);
  await shoot(sub, 'mesh');
});

/**
 * A donor tab's CPU share and pause, in real Chromium over real WebRTC: a
 * `peergrid` CLI submits ~50 ms matmul tasks; the tab's worker pool is busy
 * about the share it is set to (busy ÷ wall of its workers, the pool's own
 * count), and pausing hands its queued leases back without losing or
 * failing any task. Prints the measured shares (one line).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { type Child, spawnChild } from '../harness/children.ts';
import { expect, test } from '../harness/fixtures.ts';
import { writeMatmulFiles } from '../harness/matmul-files.ts';
import { REPO_DIR } from '../harness/paths.ts';

const CLI_BIN = join(REPO_DIR, 'node-worker', 'bin', 'peergrid.js');
/** ~50–100 ms a task in a tab's WASM worker: a deep, narrow matmul (a small model, 4 KiB of input a task). */
const JOB_SHAPE = (tasks: number) => ({ size: 64, layers: 3000, rows: 16, tasks });
/** Wall time each share is measured over, after a settling time of the same length, ms. */
const WINDOW_MS = 6000;

/** The part of the page's test hook (`window.peergrid`) the harness's type leaves out. */
interface PoolHook {
  readonly executor: { state(): { busyMs: number; size: number } };
}

function submit(signal: string, grid: string, tasks: number, state: string): Child {
  return spawnChild('peergrid-cli', process.execPath, [
    CLI_BIN,
    'run',
    ...['--signal', signal, '--grid', grid],
    // ~50 ms per task in a tab's single-threaded WASM worker.
    ...writeMatmulFiles(state, JOB_SHAPE(tasks)).args,
    ...['--replicas', '1', '--quorum', '1', '--audit-rate', '0', '--target-error', '0.99'],
    ...['--no-local-anchor', '--state', state],
  ]);
}

async function poolShare(page: Page, ms: number): Promise<number> {
  return page.evaluate(async (ms) => {
    const p = (window as unknown as { peergrid: PoolHook }).peergrid;
    const s0 = p.executor.state();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, ms));
    const s1 = p.executor.state();
    return (s1.busyMs - s0.busyMs) / ((performance.now() - t0) * s1.size);
  }, ms);
}

test('a tab computes about its CPU share of the time (25 %, 50 %, 100 %), and a pause loses no task', async ({
  startGrid,
}, testInfo) => {
  const grid = await startGrid({ donorTabs: 1, nodeWorkers: 0, submitter: false });
  const donor = grid.donors[0]!;
  const state = mkdtempSync(join(tmpdir(), 'peergrid-e2e-share-'));
  const cli = submit(grid.signaling.wsUrl, grid.name, 4000, state);
  try {
    await expect
      .poll(() => donor.page.evaluate(() => window.peergrid!.donor.get().tasksDone), {
        timeout: 90_000,
      })
      .toBeGreaterThan(5);
    const shares: Record<string, number> = {};
    for (const pct of [100, 50, 25]) {
      // The slider, as a donor moves it.
      await donor.page.getByTestId('cpu-share-input').fill(String(pct));
      await expect(donor.page.getByTestId('cpu-share-value')).toHaveText(`${pct} %`);
      await donor.page.waitForTimeout(WINDOW_MS / 2);
      shares[pct] = await poolShare(donor.page, WINDOW_MS);
    }
    console.info(`tab-cpu-share ${JSON.stringify(shares)}`);
    expect(shares[100]!).toBeGreaterThan(0.8);
    expect(shares[50]!).toBeGreaterThan(0.4);
    expect(shares[50]!).toBeLessThan(0.6);
    expect(shares[25]!).toBeGreaterThan(0.17);
    expect(shares[25]!).toBeLessThan(0.33);
    // Shown live: the measured share moves toward the slider's.
    await expect
      .poll(async () =>
        Number(
          (await donor.page.getByTestId('cpu-share-measured').textContent())?.match(/\d+/)?.[0],
        ),
      )
      .toBeLessThan(45);
    const path = testInfo.outputPath('donate-controls.png');
    await donor.page.screenshot({ path, fullPage: true });
    await testInfo.attach('donate-controls.png', { path, contentType: 'image/png' });

    // Pause: queued leases go back at once; nothing more starts; nothing fails.
    await donor.page.getByTestId('cpu-share-input').fill('100');
    await donor.page.getByTestId('pause-button').click();
    await expect(donor.page.getByTestId('donor-state')).toHaveAttribute('data-state', 'paused');
    await donor.page.waitForTimeout(1000); // the running task finishes
    const frozen = await donor.page.evaluate(() => window.peergrid!.donor.get().tasksDone);
    await donor.page.waitForTimeout(3000);
    expect(await donor.page.evaluate(() => window.peergrid!.donor.get().tasksDone)).toBe(frozen);
    expect(await donor.page.evaluate(() => window.peergrid!.donor.get().tasksFailed)).toBe(0);
    await donor.page.getByTestId('pause-button').click();
    await expect
      .poll(() => donor.page.evaluate(() => window.peergrid!.donor.get().tasksDone), {
        timeout: 30_000,
      })
      .toBeGreaterThan(frozen);
    expect(cli.log.join('\n')).not.toMatch(/failed [1-9]|\d+ failed/);
  } finally {
    await cli.stop('SIGKILL', 0);
    rmSync(state, { recursive: true, force: true });
  }
});

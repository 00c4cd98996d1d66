/**
 * Background and frozen donor tabs, in real Chromium: a hidden tab keeps its
 * links alive (its timers run in a worker, which Chromium does not throttle)
 * and keeps computing even when its own timers wake once a minute; a frozen tab (CDP Page.setWebLifecycleState) is
 * noticed by its submitter within the heartbeat window, its leases go to the
 * other donor without failing any task, and it serves again once thawed.
 * Headless Chromium neither hides nor freezes a page, so both are emulated
 * where the page would feel them (see the comments below).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnChild } from '../harness/children.ts';
import { expect, test } from '../harness/fixtures.ts';
import { writeMatmulFiles } from '../harness/matmul-files.ts';
import { REPO_DIR } from '../harness/paths.ts';

const CLI_BIN = join(REPO_DIR, 'node-worker', 'bin', 'peergrid.js');
/** ~50–100 ms a task in a tab's WASM worker: a deep, narrow matmul (a small model, 4 KiB of input a task). */
const JOB_SHAPE = (tasks: number) => ({ size: 64, layers: 3000, rows: 16, tasks });
/** Links declare a peer dead after this much silence (shared's link default), ms. */
const DEAD_AFTER_MS = 8000;

test('a hidden tab keeps computing; a frozen one is dropped without failing tasks and rejoins when thawed', async ({
  startGrid,
}) => {
  const grid = await startGrid({ donorTabs: 1, nodeWorkers: 1, submitter: false });
  const tab = grid.donors[0]!;
  const state = mkdtempSync(join(tmpdir(), 'peergrid-e2e-bg-'));
  const cli = spawnChild('peergrid-cli', process.execPath, [
    CLI_BIN,
    'run',
    ...['--signal', grid.signaling.wsUrl, '--grid', grid.name],
    ...writeMatmulFiles(state, JOB_SHAPE(10000)).args,
    ...['--replicas', '1', '--quorum', '1', '--audit-rate', '0', '--target-error', '0.99'],
    ...['--no-local-anchor', '--state', state],
  ]);
  const done = () => tab.page.evaluate(() => window.peergrid!.donor.get().tasksDone);
  /** Donors the CLI's last progress line counts. */
  const cliDonors = () =>
    Number([...cli.log.join('\n').matchAll(/· (\d+) donors/g)].at(-1)?.[1] ?? 0);
  try {
    await expect.poll(done, { timeout: 90_000 }).toBeGreaterThan(5);
    await expect.poll(cliDonors, { timeout: 30_000 }).toBe(2);

    // Hidden, as Chromium treats a background tab after five minutes: the page says hidden and
    // its own timers wake once a minute (intensive throttling). Headless Chromium never hides a
    // page, so both are emulated in the page; the worker's timers are the real ones.
    const cdp = await tab.context.newCDPSession(tab.page);
    await cdp.send('Emulation.setFocusEmulationEnabled', { enabled: false });
    await tab.page.evaluate(() => {
      const w = window as unknown as { __nativeSetTimeout?: typeof setTimeout };
      w.__nativeSetTimeout = window.setTimeout;
      const native = window.setTimeout.bind(window);
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
      Object.defineProperty(document, 'visibilityState', {
        configurable: true,
        get: () => 'hidden',
      });
      document.dispatchEvent(new Event('visibilitychange'));
      window.setTimeout = ((fn: () => void, ms = 0) =>
        native(fn, Math.max(ms, 60_000 - (Date.now() % 60_000)))) as typeof setTimeout;
    });
    const hiddenAt = await done();
    await tab.page.waitForTimeout(2 * DEAD_AFTER_MS);
    expect(await done()).toBeGreaterThan(hiddenAt);
    expect(cliDonors()).toBe(2);

    // Frozen: the submitter sees the link die within the heartbeat window and carries on.
    // (It stays in the grid's presence, its socket kept by the browser: the CLI sets it aside
    // and offers it again every few seconds, so look for any line counting one donor.)
    const seenLines = cli.log.length;
    const oneDonorSince = () => cli.log.slice(seenLines).some((l) => /· 1 donors/.test(l));
    // Headless Chromium never freezes a visible page (setWebLifecycleState is accepted and has
    // no effect): the debugger stops the page's JavaScript as a freeze does.
    await cdp.send('Page.setWebLifecycleState', { state: 'frozen' });
    await cdp.send('Debugger.enable');
    await cdp.send('Debugger.pause');
    const frozenAt = Date.now();
    await expect.poll(oneDonorSince, { timeout: 3 * DEAD_AFTER_MS, intervals: [100] }).toBe(true);
    const noticedMs = Date.now() - frozenAt;
    // Its leases went to the node worker: the job goes on.
    const verified = () =>
      Number([...cli.log.join('\n').matchAll(/ (\d+)\/\d+ verified/g)].at(-1)?.[1] ?? 0);
    const atNotice = verified();
    await expect.poll(verified, { timeout: 30_000 }).toBeGreaterThan(atNotice + 20);
    console.info(`frozen-tab noticed after ${noticedMs} ms`);
    expect(noticedMs).toBeLessThan(3 * DEAD_AFTER_MS);

    // Thawed: it joins in again and computes.
    await cdp.send('Debugger.resume');
    await cdp.send('Debugger.disable');
    await cdp.send('Page.setWebLifecycleState', { state: 'active' });
    await tab.page.evaluate(() => {
      const w = window as unknown as { __nativeSetTimeout: typeof setTimeout };
      window.setTimeout = w.__nativeSetTimeout;
      Reflect.deleteProperty(document, 'hidden');
      Reflect.deleteProperty(document, 'visibilityState');
      document.dispatchEvent(new Event('visibilitychange'));
    });
    const thawedAt = await done();
    await expect.poll(done, { timeout: 60_000 }).toBeGreaterThan(thawedAt);
    await expect.poll(cliDonors, { timeout: 30_000 }).toBe(2);
    const log = cli.log.join('\n');
    expect(log).not.toMatch(/\d+ failed/);
  } finally {
    await cli.stop('SIGKILL', 0);
    rmSync(state, { recursive: true, force: true });
  }
});

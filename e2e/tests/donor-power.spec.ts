/**
 * A donor tab's power and use rules in Chromium: "only while charging" is
 * offered where the Battery Status API exists and pauses the tab on battery
 * (the battery itself is a stand-in: headless Chromium reports a charging
 * one); "pause while I use this computer" without Idle Detection's
 * permission pauses on this tab's input. Settings survive a reload.
 */
import { expect, test } from '../harness/fixtures.ts';
import { waitJoined } from '../harness/tabs.ts';

test('only while charging pauses on battery; pause while in use pauses on input; both are kept', async ({
  startGrid,
}) => {
  const grid = await startGrid({ donorTabs: 1, nodeWorkers: 0, submitter: false });
  const tab = grid.donors[0]!;
  const state = tab.page.getByTestId('donor-state');
  // Chromium has the Battery Status API: the control is there.
  expect(
    await tab.page.evaluate(() => typeof (navigator as { getBattery?: unknown }).getBattery),
  ).toBe('function');
  await expect(tab.page.getByTestId('charging-toggle')).toBeVisible();

  // A battery the test can unplug, in place of the real one, from the page's first script on.
  await tab.context.addInitScript(() => {
    const battery = Object.assign(new EventTarget(), { charging: true, level: 1 });
    Object.defineProperty(Navigator.prototype, 'getBattery', {
      configurable: true,
      value: async () => battery,
    });
    (window as unknown as { __plug(on: boolean): void }).__plug = (on) => {
      battery.charging = on;
      battery.dispatchEvent(new Event('chargingchange'));
    };
  });
  await tab.page.reload();
  await waitJoined(tab.page);
  const plug = (on: boolean) =>
    tab.page.evaluate((on) => (window as unknown as { __plug(on: boolean): void }).__plug(on), on);

  await tab.page.getByTestId('charging-toggle').check();
  await expect(state).toHaveAttribute('data-state', 'donating');
  await plug(false);
  await expect(state).toHaveAttribute('data-state', 'paused');
  await expect(tab.page.locator('h1')).toContainText('on battery');
  // Paused by a rule: the tab advertises no capacity, like the button.
  const selfSlots = () =>
    tab.page.evaluate(
      () =>
        (
          window.peergrid!.grid.get().peers.find((p) => p.self)?.capabilities as
            | { maxConcurrency?: number }
            | null
            | undefined
        )?.maxConcurrency,
    );
  await expect.poll(selfSlots, { timeout: 10_000 }).toBe(0);
  await plug(true);
  await expect(state).toHaveAttribute('data-state', 'donating');
  await expect.poll(selfSlots, { timeout: 10_000 }).toBe(1);

  // In use, without Idle Detection's permission: the click itself is use.
  await tab.page.getByTestId('in-use-toggle').check();
  await expect(tab.page.getByTestId('in-use-source')).toHaveAttribute('data-source', 'this-tab');
  await expect(state).toHaveAttribute('data-state', 'paused');
  await expect(tab.page.locator('h1')).toContainText('in use');

  // Kept across a reload (localStorage).
  await tab.page.reload();
  await waitJoined(tab.page);
  await expect(tab.page.getByTestId('charging-toggle')).toBeChecked();
  await expect(tab.page.getByTestId('in-use-toggle')).toBeChecked();
  await tab.page.getByTestId('in-use-toggle').uncheck();
  await expect(state).toHaveAttribute('data-state', 'donating');
  await plug(false);
  await expect(state).toHaveAttribute('data-state', 'paused');
});

import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumPath } from './chromium.ts';

const jsonOut = process.env.PLAYWRIGHT_JSON_OUTPUT_NAME;

export default defineConfig({
  testDir: './tests',
  // Builds web-client/dist when it is missing or older than its sources.
  globalSetup: './harness/global-setup.ts',
  // Each test builds its own grid (signaling + tabs + node workers) on 2 cores: run one at a time.
  workers: 1,
  fullyParallel: false,
  timeout: 180_000,
  expect: { timeout: 30_000 },
  retries: 0,
  outputDir: './test-results',
  reporter: jsonOut ? [['list'], ['json', { outputFile: jsonOut }]] : [['list']],
  use: {
    headless: true,
    launchOptions: { executablePath: chromiumPath(), args: CHROMIUM_ARGS },
    screenshot: 'only-on-failure',
    trace: 'off',
  },
});

import { defineConfig } from 'vitest/config';

// One run for every package's unit and integration tests; e2e (Playwright) runs separately.
export default defineConfig({
  test: {
    projects: ['shared', 'signaling', 'node-worker', 'client', 'web-client'],
  },
});

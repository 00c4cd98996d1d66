/**
 * The suite's `test`: Playwright's, plus `startGrid` (grids that end with the
 * test, whatever happens) and failure reports (child logs, page problems).
 */
import { test as base } from '@playwright/test';
import { killAllChildren, tail } from './children.ts';
import { type Grid, type GridOptions, startGrid } from './grid.ts';

export const test = base.extend<{ startGrid: (o: GridOptions) => Promise<Grid> }>({
  startGrid: async ({ browser }, use, testInfo) => {
    const grids: Grid[] = [];
    try {
      await use(async (o) => {
        const g = await startGrid(browser, o);
        grids.push(g);
        return g;
      });
    } finally {
      for (const g of grids) {
        if (testInfo.status !== testInfo.expectedStatus) {
          const members = [
            ...[...(g.submitter ? [g.submitter] : []), ...g.donors].map((t) => `${t.name} ${t.id}`),
            ...[...g.workers, ...g.saboteurs].map((w) => `${w.child.name} ${w.id}`),
          ].join('\n');
          const children = [
            g.signaling.child,
            ...[...g.workers, ...g.saboteurs].map((w) => w.child),
          ];
          const logs = `${members}\n${children.map((c) => `── ${c.name}\n${tail(c.log, 60)}`).join('\n')}`;
          await testInfo.attach('processes.log', { body: logs, contentType: 'text/plain' });
          await testInfo.attach('page-problems.log', {
            body: g.problems().join('\n') || '(none)',
            contentType: 'text/plain',
          });
          for (const t of g.tabs()) {
            const shot = await t.page.screenshot({ fullPage: true }).catch(() => null);
            if (shot)
              await testInfo.attach(`${t.name}.png`, { body: shot, contentType: 'image/png' });
          }
        }
        await g.close();
      }
      await killAllChildren();
    }
  },
});

export { expect } from '@playwright/test';

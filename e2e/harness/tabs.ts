/**
 * Donor and submitter tabs: each its own browser context (own IndexedDB,
 * own identity), driven through the page's data-testids and the documented
 * `window.peergrid` test hook (web-client/TESTIDS.md).
 */
import type { Browser, BrowserContext, Page } from '@playwright/test';

/** How long a tab may take to join the grid, ms. Default 30 000. */
export const TAB_JOIN_MS = 30_000;
/** Chromium logs this when WebGPU has no adapter (headless, no GPU): not the page's error. */
const BENIGN = [/No available adapters/, /powerPreference/];

export interface TabOptions {
  readonly grid: string;
  /** Worker count (`?workers=`). Default 1: the machine has few cores. */
  readonly workers?: number;
  /** `?gpu=`. Default false (WASM). */
  readonly gpu?: boolean;
  /** Initial view. Default 'donate'. */
  readonly view?: 'donate' | 'submit' | 'jobs' | 'mesh';
  readonly name?: string;
  /** More page options (`signal`, `ice`…). Default none. */
  readonly query?: Readonly<Record<string, string>>;
}

export interface Tab {
  readonly name: string;
  readonly context: BrowserContext;
  readonly page: Page;
  /** The page URL without its #view. */
  readonly url: string;
  /** This tab's full peer id (set once it joined). */
  id: string;
  /** Page errors and console errors seen so far. */
  readonly problems: string[];
  /** When {@link openTab} was called (epoch ms). */
  readonly openedAt: number;
  /**
   * Where its opening went, ms after `openedAt`: `context`, `page`, `loaded`
   * (goto returned), `joined`. The page's own marks: {@link pageMarks}.
   */
  readonly timings: Record<string, number>;
  close(): Promise<void>;
}

/** The page URL of a grid. */
export function pageUrl(httpUrl: string, o: TabOptions): string {
  const q = new URLSearchParams({
    grid: o.grid,
    workers: String(o.workers ?? 1),
    gpu: o.gpu ? '1' : '0',
    ...o.query,
  });
  return `${httpUrl}?${q}`;
}

/** Opens a tab in a new context and waits until it is online in the grid with an id. */
export async function openTab(browser: Browser, httpUrl: string, o: TabOptions): Promise<Tab> {
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  timings.context = Date.now() - t0;
  const page = await context.newPage();
  timings.page = Date.now() - t0;
  const name = o.name ?? 'tab';
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`[${name}] pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !BENIGN.some((r) => r.test(m.text())))
      problems.push(`[${name}] console.error: ${m.text()}`);
  });
  const url = pageUrl(httpUrl, o);
  const tab: Tab = {
    name,
    context,
    page,
    url,
    id: '',
    problems,
    openedAt: t0,
    timings,
    close: () => context.close(),
  };
  try {
    await page.goto(`${url}#/${o.view ?? 'donate'}`);
    timings.loaded = Date.now() - t0;
    tab.id = await waitJoined(page);
    timings.joined = Date.now() - t0;
  } catch (e) {
    await context.close().catch(() => {});
    throw new Error(`${name} did not join: ${(e as Error).message}\n${problems.join('\n')}`);
  }
  return tab;
}

/** The page's navigation timing and `peergrid:*` marks, as ms after `since` (epoch ms). */
export function pageMarks(page: Page, since: number): Promise<Record<string, number>> {
  // No named helpers inside: tsx would wrap them in a `__name` call the page does not have.
  return page.evaluate((since) => {
    const origin = performance.timeOrigin - since;
    const out: Record<string, number> = {};
    const nav = performance.getEntriesByType('navigation')[0] as
      | PerformanceNavigationTiming
      | undefined;
    if (nav) {
      out.navStart = Math.round(origin + nav.startTime);
      out.responseEnd = Math.round(origin + nav.responseEnd);
      out.domContentLoaded = Math.round(origin + nav.domContentLoadedEventEnd);
      out.loadEvent = Math.round(origin + nav.loadEventEnd);
    }
    for (const m of performance.getEntriesByType('mark'))
      if (m.name.startsWith('peergrid:')) out[m.name.slice(9)] = Math.round(origin + m.startTime);
    return out;
  }, since);
}

/** How often the harness polls a page while it waits, ms. Default 100. */
export const POLL_MS = 100;

/** Waits until the page is online and knows its peer id; returns the id. */
export async function waitJoined(page: Page, timeoutMs = TAB_JOIN_MS): Promise<string> {
  // One poll inside the page for both: no extra round trip per condition.
  const handle = await page.waitForFunction(
    () =>
      document.querySelector('[data-testid="signal-status"][data-status="online"]')
        ? (window.peergrid?.grid.get().selfId ?? null)
        : null,
    undefined,
    { timeout: timeoutMs, polling: POLL_MS },
  );
  return (await handle.jsonValue()) as string;
}

/** Other peers this page knows in its grid (what the Donate view's `peer-count` shows). */
export function peerIds(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    (window.peergrid?.grid.get().peers ?? []).filter((p) => !p.self).map((p) => p.id),
  );
}

/** The `peer-count` figure of the Donate view (the tab must be on it). */
export async function shownPeerCount(page: Page): Promise<number> {
  return Number(await page.getByTestId('peer-count').textContent());
}

/** Tasks this tab ran for others (`tasks-done`, kept in the runtime's donor store). */
export function tasksDone(page: Page): Promise<number> {
  return page.evaluate(() => window.peergrid?.donor.get().tasksDone ?? 0);
}

/** Waits until every tab knows every listed peer id (besides itself). */
export async function waitForMesh(
  tabs: readonly Tab[],
  ids: readonly string[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Every tab at once: one slow page does not hold up the others' checks.
    const known = await Promise.all(tabs.map((t) => peerIds(t.page)));
    const missing: string[] = [];
    tabs.forEach((t, i) => {
      const has = new Set(known[i]);
      const lack = ids.filter((id) => id !== t.id && !has.has(id));
      if (lack.length > 0) missing.push(`${t.name} lacks ${lack.length}`);
    });
    if (missing.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`grid did not form in ${timeoutMs} ms: ${missing.join(', ')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

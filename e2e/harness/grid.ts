/**
 * A whole grid for one test: the signaling server (child process), donor
 * tabs (one browser context each, one shared browser), node workers (child
 * processes) and a submitter tab. `close()` ends all of it, also after a
 * failure.
 */
import type { Browser } from '@playwright/test';
import { killAllChildren } from './children.ts';
import { type NodeWorker, type NodeWorkerOptions, startNodeWorker } from './node-workers.ts';
import { type SignalingProcess, startSignaling } from './signaling.ts';
import { openTab, type Tab, waitForMesh } from './tabs.ts';

/** How long the grid may take to form (everyone sees everyone), ms. Default 60 000. */
export const FORMATION_MS = 60_000;
/** Tabs opened at once while the grid forms. Default 4. */
export const OPEN_AT_ONCE = 4;

export interface GridOptions {
  /** Donor tabs besides the submitter. */
  readonly donorTabs: number;
  readonly nodeWorkers: number;
  /** Node workers started with the test-only sabotage switch (on top of `nodeWorkers`). Default 0. */
  readonly saboteurs?: number;
  /** Open a submitter tab on the Submit view. Default true. */
  readonly submitter?: boolean;
  readonly workerOptions?: Partial<Omit<NodeWorkerOptions, 'signal' | 'grid'>>;
  /** Wait for the full mesh. Default true. */
  readonly waitForMesh?: boolean;
  /** Tabs opened at once. Default {@link OPEN_AT_ONCE}. */
  readonly openAtOnce?: number;
}

export interface Grid {
  readonly name: string;
  readonly signaling: SignalingProcess;
  readonly donors: Tab[];
  readonly workers: NodeWorker[];
  readonly saboteurs: NodeWorker[];
  /** The tab that submits (it donates too). */
  readonly submitter: Tab | null;
  /** Every tab, the submitter first. */
  tabs(): Tab[];
  /** Peer ids of every member now running. */
  ids(): string[];
  /** Time from the first member starting to a full mesh (every tab lists every member), ms. */
  readonly formationMs: number;
  /** Time from the first member starting to the last one joined (online, with its id), ms. */
  readonly joinedMs: number;
  /** When each member joined (online, with its id), ms after the first started; in join order. */
  readonly joins: { readonly name: string; readonly ms: number }[];
  /** Problems the pages reported (page errors, console errors). */
  problems(): string[];
  /** Ends everything: contexts, workers, the server. Never throws. */
  close(): Promise<void>;
}

let serial = 0;

async function inBatches<T>(
  n: number,
  size: number,
  make: (i: number) => Promise<T>,
): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += size) {
    const batch = Array.from({ length: Math.min(size, n - i) }, (_, k) => make(i + k));
    const settled = await Promise.allSettled(batch);
    for (const s of settled) if (s.status === 'fulfilled') out.push(s.value);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
  }
  return out;
}

export async function startGrid(browser: Browser, o: GridOptions): Promise<Grid> {
  const name = `e2e-${process.pid}-${++serial}-${Date.now().toString(36)}`;
  const signaling = await startSignaling();
  const donors: Tab[] = [];
  const workers: NodeWorker[] = [];
  const saboteurs: NodeWorker[] = [];
  let submitter: Tab | null = null;
  const closedTabs = new Set<Tab>();
  const tabs = () =>
    [...(submitter ? [submitter] : []), ...donors].filter((t) => !closedTabs.has(t));
  const grid: Grid = {
    name,
    signaling,
    donors,
    workers,
    saboteurs,
    get submitter() {
      return submitter;
    },
    tabs,
    ids: () => [
      ...tabs().map((t) => t.id),
      ...[...workers, ...saboteurs].filter((w) => !w.child.exited).map((w) => w.id),
    ],
    formationMs: 0,
    joinedMs: 0,
    joins: [],
    problems: () => [...(submitter ? [submitter] : []), ...donors].flatMap((t) => t.problems),
    async close() {
      await Promise.allSettled(tabs().map((t) => t.close()));
      await Promise.allSettled([...workers, ...saboteurs].map((w) => w.kill()));
      await signaling.kill().catch(() => {});
      await killAllChildren();
    },
  };
  // Tabs closed by a test are closed once only.
  const track = (t: Tab): Tab => {
    const close = t.close;
    t.close = async () => {
      if (closedTabs.has(t)) return;
      closedTabs.add(t);
      await close().catch(() => {});
    };
    return t;
  };
  try {
    const t0 = Date.now();
    const joined = <T>(x: T, n: string): T => {
      grid.joins.push({ name: n, ms: Date.now() - t0 });
      return x;
    };
    const base = { signal: signaling.wsUrl, grid: name, ...o.workerOptions };
    const starting = Promise.all([
      ...Array.from({ length: o.nodeWorkers }, (_, i) =>
        startNodeWorker({ ...base, name: `worker-${i}` }).then((w) =>
          workers.push(joined(w, `worker-${i}`)),
        ),
      ),
      ...Array.from({ length: o.saboteurs ?? 0 }, (_, i) =>
        startNodeWorker({ ...base, sabotage: true, name: `saboteur-${i}` }).then((w) =>
          saboteurs.push(joined(w, `saboteur-${i}`)),
        ),
      ),
    ]);
    starting.catch(() => {}); // awaited below; not unhandled while the tabs open
    // The submitter is one more tab: it opens beside the donors, not before them.
    const specs: { name: string; view?: 'submit' }[] = [
      ...(o.submitter !== false ? [{ name: 'submitter', view: 'submit' as const }] : []),
      ...Array.from({ length: o.donorTabs }, (_, i) => ({ name: `donor-${i}` })),
    ];
    await inBatches(specs.length, o.openAtOnce ?? OPEN_AT_ONCE, async (i) => {
      const spec = specs[i] as (typeof specs)[number];
      const t = track(
        joined(await openTab(browser, signaling.httpUrl, { grid: name, ...spec }), spec.name),
      );
      if (spec.view === 'submit') submitter = t;
      else donors.push(t);
      return t;
    });
    await starting;
    (grid as { joinedMs: number }).joinedMs = Date.now() - t0;
    if (o.waitForMesh !== false) await waitForMesh(tabs(), grid.ids(), FORMATION_MS);
    (grid as { formationMs: number }).formationMs = Date.now() - t0;
    return grid;
  } catch (e) {
    await grid.close();
    throw e;
  }
}

/**
 * The tiny-task figure of `npm run bench:e2e`: near-empty tasks (the matmul
 * workload's `tiny` preset, node-worker/src/workloads/matmul-job.ts) through
 * tab donors, from a Node submitter in a child process
 * (`tiny-submitter-cli.ts`), against the same tabs fed the same tasks from a
 * local queue inside each tab (`window.peergrid.executor`, the page's worker
 * pool: no network, no verification).
 */
import type { Tensor } from '@peergrid/shared';
import { createMatmulJob } from '../../node-worker/src/workloads/index.ts';
import { spawnChild } from './children.ts';
import { E2E_DIR, REPO_DIR } from './paths.ts';
import type { Tab } from './tabs.ts';

/** Input seed of task 0 of the timed job and of the baseline (same inputs in both). */
export const TINY_SEED = 1;
/** Leases per donor slot for tiny tasks, as bench:grid's `--tiny-pipeline`. Default 32. */
export const TINY_PIPELINE = 32;
/** How long the submitter child may take for both its jobs, ms. Default 300 000. */
export const TINY_JOB_MS = 300_000;

export interface TinyGridOptions {
  /** ws:// URL of the signaling server. */
  readonly signal: string;
  readonly grid: string;
  /** Donors the submitter waits for before it starts. */
  readonly donors: number;
  readonly tasks: number;
  /** Leases per donor slot. Default {@link TINY_PIPELINE}. */
  readonly pipeline?: number;
  /** Tasks of the untimed warm-up job (links opened, lease windows sized, pages JIT-warm). Default 100 per donor. */
  readonly warm?: number;
}

export interface TinyGridResult {
  readonly tasks: number;
  readonly seconds: number;
  readonly tasksPerSec: number;
  /** Results each donor reported to the timed job. */
  readonly donors: readonly { readonly id: string; readonly reported: number }[];
}

/** Runs the warm-up and the timed job from a Node submitter; its progress goes to stderr. */
export async function runTinyGrid(o: TinyGridOptions): Promise<TinyGridResult> {
  const child = spawnChild(
    'tiny-submitter',
    process.execPath,
    [
      '--import',
      'tsx',
      `${E2E_DIR}/harness/tiny-submitter-cli.ts`,
      ...['--signal', o.signal, '--grid', o.grid, '--donors', String(o.donors)],
      ...['--tasks', String(o.tasks), '--pipeline', String(o.pipeline ?? TINY_PIPELINE)],
      ...['--warm', String(o.warm ?? 100 * o.donors), '--seed', String(TINY_SEED)],
    ],
    { cwd: REPO_DIR, echo: true },
  );
  try {
    const m = await child.waitFor(/^tiny-result (\{.*\})$/, TINY_JOB_MS);
    return JSON.parse(m[1] as string) as TinyGridResult;
  } finally {
    await child.stop('SIGTERM', 3000);
  }
}

export interface TinyBaseline {
  readonly tasks: number;
  /** Rounds run; the figures are the best one's. */
  readonly rounds: number;
  /** Tasks over the time from the first tab starting to the last one done. */
  readonly tasksPerSec: number;
  /** Each tab's own rate (its share of the tasks over its own time). */
  readonly perTab: readonly { readonly name: string; readonly tasksPerSec: number }[];
  /** Mean compute time of one run as the workers timed it, ms. */
  readonly computeMsPerTask: number;
}

/** Runs of the untimed warm-up in each tab (the model loaded in its workers). Default 16. */
const BASELINE_WARM = 16;
/** Timed baseline rounds, the best kept. Default 3. */
export const BASELINE_ROUNDS = 3;

interface TabRun {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly computeMs: number;
  readonly count: number;
}

/**
 * Runs the first `limit` of the given inputs through the tab's executor from
 * a queue in the page, fed as its donor agent feeds it: its slots plus the
 * runs it takes early (`concurrency + prefetch`) in flight.
 */
function runInTab(
  tab: Tab,
  a: {
    model: number[];
    hash: string;
    flat: number[];
    count: number;
    limit: number;
    dtype: string;
    dims: number[];
  },
): Promise<TabRun> {
  // No named helpers inside: tsx would wrap them in a `__name` call the page does not have.
  return tab.page.evaluate(async (a) => {
    const ex = window.peergrid?.executor;
    if (!ex) throw new Error('no window.peergrid.executor');
    const model = new Uint8Array(a.model);
    const all = new Uint8Array(a.flat);
    const per = all.length / a.count;
    const count = Math.min(a.limit, a.count);
    const feeds: Record<string, { dtype: string; dims: number[]; data: Uint8Array }>[] = [];
    for (let i = 0; i < count; i++)
      feeds.push({ x: { dtype: a.dtype, dims: a.dims, data: all.slice(i * per, (i + 1) * per) } });
    const lanes = Math.max(1, ex.concurrency) + Math.max(0, ex.prefetch ?? 0);
    let computeMs = 0;
    let next = 0;
    const startedAt = performance.timeOrigin + performance.now();
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        for (let i = next++; i < count; i = next++) {
          const out = await ex.run({
            modelHash: a.hash,
            model,
            feeds: feeds[i] as (typeof feeds)[number],
            timeoutMs: 60_000,
          });
          computeMs += out.computeMs;
        }
      }),
    );
    const endedAt = performance.timeOrigin + performance.now();
    return { startedAt, endedAt, computeMs, count };
  }, a);
}

/**
 * The same `tasks` tiny tasks the grid ran (seed {@link TINY_SEED}), task i
 * to tab i mod tabs, each tab running its share through its own executor
 * from a queue inside the page (see {@link runInTab}). Every tab warms up
 * first; then all start at once (one evaluate each, sent together). The
 * best of `rounds` such runs: a round lasts about a second, and whatever
 * else the machine runs meanwhile shows in it.
 */
export async function tinyBaseline(
  tabs: readonly Tab[],
  tasks: number,
  rounds = BASELINE_ROUNDS,
): Promise<TinyBaseline> {
  const spec = createMatmulJob({ preset: 'tiny', tasks, seed: TINY_SEED }).spec;
  const first = spec.tasks[0];
  if (!first) throw new Error('no tasks');
  const model = Array.from(spec.models[first.model] as Uint8Array);
  const inputs = spec.tasks.map((t) => {
    const f = t.feeds.x;
    if (!f || !('tensor' in f)) throw new Error(`task ${t.id} has no tensor feed x`);
    return f.tensor as Tensor;
  });
  const { dtype, dims } = inputs[0] as Tensor;
  const args = tabs.map((_, k) => {
    const mine = inputs.filter((_, i) => i % tabs.length === k);
    const flat: number[] = [];
    for (const t of mine) flat.push(...t.data);
    return { model, hash: first.model, flat, count: mine.length, dtype, dims: [...dims] };
  });
  await Promise.all(
    tabs.map((tab, k) =>
      runInTab(tab, { ...(args[k] as (typeof args)[number]), limit: BASELINE_WARM }),
    ),
  );
  let best: TinyBaseline | null = null;
  for (let round = 0; round < rounds; round++) {
    const runs = await Promise.all(
      tabs.map((tab, k) =>
        runInTab(tab, { ...(args[k] as (typeof args)[number]), limit: Number.MAX_SAFE_INTEGER }),
      ),
    );
    const start = Math.min(...runs.map((r) => r.startedAt));
    const end = Math.max(...runs.map((r) => r.endedAt));
    const computeMs = runs.reduce((s, r) => s + r.computeMs, 0);
    const figures: TinyBaseline = {
      tasks,
      rounds,
      tasksPerSec: tasks / ((end - start) / 1000),
      perTab: runs.map((r, k) => ({
        name: (tabs[k] as Tab).name,
        tasksPerSec: Number((r.count / ((r.endedAt - r.startedAt) / 1000)).toFixed(1)),
      })),
      computeMsPerTask: computeMs / tasks,
    };
    if (!best || figures.tasksPerSec > best.tasksPerSec) best = figures;
  }
  return best as TinyBaseline;
}

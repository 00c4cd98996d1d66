/**
 * `npm run bench:e2e`: a 16-tab + 4-node-worker grid on this machine.
 * Prints progress lines, then one JSON line:
 *   {"tabs","nodeWorkers","formationMs","jobMs","resumeKeptRatio", …baselines}
 * formationMs: all members started at once → every tab lists every other member.
 * jobMs: MNIST sample (replicas 2) submitted through the page → completed.
 * resumeKeptRatio: tasks shown verified at an immediate mid-job reload that are
 * still verified after it (IndexedDB resume), over those shown; resumedAt: the
 * share of the job verified when it came back (below 1: the reload was mid-job).
 * Baselines from the same run: one tab alone joining (joinMs), and the same
 * job run locally on one WASM executor (localJobMs).
 * tabTinyTasksPerSec: near-empty tasks (matmul `tiny`, transport-only policy)
 * from a Node submitter through a fresh grid of 4 donor tabs, against the
 * same tabs running the same tasks from a queue inside each page through its
 * own executor (tabTinyBaselineTasksPerSec); `--tiny` runs only that.
 * Progress goes to stderr; the JSON line is the last line on stdout.
 */
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type Browser, chromium } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumPath } from '../chromium.ts';
import { killAllChildren } from '../harness/children.ts';
import { preparePage } from '../harness/global-setup.ts';
import { type Grid, startGrid } from '../harness/grid.ts';
import {
  storedResults,
  submitMnist,
  verifiedWhen,
  waitCompleted,
  waitJob,
} from '../harness/jobs.ts';
import { warmNodeWorker } from '../harness/node-workers.ts';
import { mnistReference } from '../harness/reference.ts';
import { startSignaling } from '../harness/signaling.ts';
import { openTab, pageMarks, type Tab, waitJoined } from '../harness/tabs.ts';
import { BASELINE_ROUNDS, runTinyGrid, TINY_PIPELINE, tinyBaseline } from '../harness/tiny.ts';

const HELP = `npm run bench:e2e -- [--tabs N] [--node-workers N] [--digits D] [--tiny] [--tiny-tasks N]

A grid of N tabs (one browser, one context each; the first submits) and node
workers on this machine, then the tiny-task figure on a fresh grid of donor
tabs. Prints progress on stderr, then one JSON line on stdout.

  --tabs N           tabs, the submitter included   default 16
  --node-workers N   peergrid-worker processes      default 4
  --digits D         MNIST digits in the timed job  default 200 (20|100|200|500|1000)
  --formation-only   stop after the grid formed (jobMs, resumeKeptRatio, tabTiny… null)
  --tiny             only the tiny-task figure: near-empty tasks (matmul 'tiny',
                     one replica, no audits) from a Node submitter through the
                     donor tabs, against the same tabs running the same tasks
                     from a local queue through their own executors
  --tiny-tasks N     tasks of the tiny figure           default 4000
  --tiny-tabs N      donor tabs of the tiny figure      default 4
  --tiny-pipeline N  leases per donor slot (tiny)       default ${TINY_PIPELINE}
  --no-tiny          skip the tiny figure in the full run (tabTiny… null)
  -v, --verbose      where each tab's opening went (ms after it started opening)
  -h, --help         this text`;

const { values } = parseArgs({
  options: {
    tabs: { type: 'string', default: '16' },
    'node-workers': { type: 'string', default: '4' },
    digits: { type: 'string', default: '200' },
    'formation-only': { type: 'boolean', default: false },
    tiny: { type: 'boolean', default: false },
    'tiny-tasks': { type: 'string', default: '4000' },
    'tiny-tabs': { type: 'string', default: '4' },
    'tiny-pipeline': { type: 'string', default: String(TINY_PIPELINE) },
    'no-tiny': { type: 'boolean', default: false },
    verbose: { type: 'boolean', short: 'v', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
const tabs = Number(values.tabs);
const nodeWorkers = Number(values['node-workers']);
const digits = Number(values.digits) as 20 | 100 | 200 | 500 | 1000;
const tinyTasks = Number(values['tiny-tasks']);
const tinyTabs = Number(values['tiny-tabs']);
const tinyPipeline = Number(values['tiny-pipeline']);
const isInt = (n: number, min: number) => Number.isInteger(n) && n >= min;
if (
  !(tabs >= 1) ||
  !(nodeWorkers >= 0) ||
  ![20, 100, 200, 500, 1000].includes(digits) ||
  !isInt(tinyTasks, 1) ||
  !isInt(tinyTabs, 1) ||
  !isInt(tinyPipeline, 1) ||
  (values.tiny && values['no-tiny'])
) {
  process.stderr.write(`bad arguments\n\n${HELP}\n`);
  process.exit(2);
}

/** One line of where a tab's opening went: the harness' steps and the page's own marks. */
async function tabTimeline(t: Tab): Promise<string> {
  const all = { ...t.timings, ...(await pageMarks(t.page, t.openedAt)) };
  return `  ${t.name}: ${Object.entries(all)
    .sort((a, b) => a[1] - b[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`;
}

/**
 * The resume job is reloaded once the page shows this many of its 100 tasks
 * verified. Default 10: its progress shows in steps of tens (a view rebuild
 * every 300 ms, commits batched while IndexedDB is busy), and a later point
 * often found the job already finished in IndexedDB.
 */
const RELOAD_AT_VERIFIED = 10;

const t0 = Date.now();
const progress = (line: string) =>
  process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${line}\n`);

/** The tiny figure's fields of the JSON line, all null when it was not run. */
const NO_TINY = {
  tabTinyTasksPerSec: null,
  tabTinyBaselineTasksPerSec: null,
  tabTinyVsBaseline: null,
};

/**
 * Tiny tasks through `tinyTabs` donor tabs (a fresh grid: no submitter tab,
 * no node workers), then the same tasks from a local queue in each tab.
 */
async function tinyFigure(browser: Browser): Promise<Record<string, unknown>> {
  progress(`tiny: starting ${tinyTabs} donor tabs`);
  const grid = await startGrid(browser, {
    donorTabs: tinyTabs,
    nodeWorkers: 0,
    submitter: false,
    openAtOnce: tinyTabs,
  });
  try {
    progress(`tiny: grid formed after ${grid.formationMs} ms`);
    progress(
      `tiny: ${tinyTasks} near-empty tasks (matmul 'tiny', transport-only policy) from a Node submitter, pipeline ${tinyPipeline} …`,
    );
    const run = await runTinyGrid({
      signal: grid.signaling.wsUrl,
      grid: grid.name,
      donors: tinyTabs,
      tasks: tinyTasks,
      pipeline: tinyPipeline,
    });
    const names = new Map(grid.tabs().map((t) => [t.id, t.name]));
    const perDonor = Object.fromEntries(
      run.donors.map((d) => [names.get(d.id) ?? d.id.slice(0, 8), d.reported]),
    );
    progress(
      `tiny: ${run.tasksPerSec.toFixed(0)} tasks/s through the tabs (${run.seconds} s; results per tab: ${Object.entries(
        perDonor,
      )
        .map(([n, r]) => `${n} ${r}`)
        .join(', ')})`,
    );
    progress(`tiny: the same tasks from a local queue in each tab, best of ${BASELINE_ROUNDS} …`);
    const base = await tinyBaseline(grid.tabs(), tinyTasks);
    progress(
      `tiny: baseline ${base.tasksPerSec.toFixed(0)} tasks/s (no network, no verification; per tab: ${base.perTab
        .map((t) => `${t.name} ${t.tasksPerSec.toFixed(0)}`)
        .join(', ')}; ${(base.computeMsPerTask * 1000).toFixed(0)} µs of ORT run per task)`,
    );
    const problems = grid.problems();
    if (problems.length > 0) progress(`tiny: the pages reported:\n${problems.join('\n')}`);
    return {
      tabTinyTasksPerSec: Math.round(run.tasksPerSec),
      tabTinyBaselineTasksPerSec: Math.round(base.tasksPerSec),
      tabTinyVsBaseline: Number((run.tasksPerSec / base.tasksPerSec).toFixed(3)),
      tabTinyTasks: tinyTasks,
      tabTinyDonors: tinyTabs,
      tabTinyPipeline: tinyPipeline,
      tabTinySeconds: run.seconds,
      tabTinyResultsPerDonor: perDonor,
      tabTinyBaselineComputeUsPerTask: Math.round(base.computeMsPerTask * 1000),
    };
  } finally {
    await grid.close();
  }
}

async function main(): Promise<Record<string, unknown>> {
  progress('checking the page build');
  const page = preparePage(progress);
  if (!values.tiny) warmNodeWorker();
  process.env.PEERGRID_E2E_STATIC = page;
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: CHROMIUM_ARGS,
  });
  let grid: Grid | null = null;
  try {
    if (values.tiny) return await tinyFigure(browser);
    // Baseline: one tab alone opening the page and joining.
    const solo = await startSignaling();
    const s0 = Date.now();
    const lone = await openTab(browser, solo.httpUrl, { grid: 'bench-solo', name: 'solo' });
    const joinMs = Date.now() - s0;
    const loneTimeline = values.verbose ? await tabTimeline(lone) : '';
    await lone.close();
    await solo.stop();
    progress(`baseline: one tab joins in ${joinMs} ms`);
    if (values.verbose) progress(loneTimeline);

    progress(`starting ${tabs} tabs and ${nodeWorkers} node workers`);
    grid = await startGrid(browser, { donorTabs: tabs - 1, nodeWorkers, openAtOnce: tabs });
    const formationMs = grid.formationMs;
    progress(`joined at (ms): ${grid.joins.map((j) => `${j.name} ${j.ms}`).join(', ')}`);
    if (values.verbose) for (const t of grid.tabs()) progress(await tabTimeline(t));
    progress(
      `grid formed: ${grid.ids().length} members joined after ${grid.joinedMs} ms, all see each other after ${formationMs} ms`,
    );

    if (values['formation-only'])
      return {
        tabs,
        nodeWorkers,
        formationMs,
        jobMs: null,
        resumeKeptRatio: null,
        joinedMs: grid.joinedMs,
        joinMs,
        formationVsJoin: Number((formationMs / joinMs).toFixed(2)),
        ...NO_TINY,
      };

    const sub = grid.submitter!;
    const r0 = Date.now();
    await mnistReference(digits, 10);
    const localJobMs = Date.now() - r0;
    progress(
      `baseline: the job on one local WASM executor (process start included) ${localJobMs} ms`,
    );

    // A failed phase still yields the figures of the others (null for its own).
    const errors: string[] = [];
    let jobMs: number | null = null;
    try {
      const j0 = Date.now();
      const jobId = await submitMnist(sub.page, { digits, batch: 10 });
      await waitCompleted(sub.page, jobId, 600_000);
      jobMs = Date.now() - j0;
      progress(
        `job of ${digits} digits (${digits / 10} tasks × 2 replicas) completed in ${jobMs} ms`,
      );
    } catch (e) {
      errors.push(`job: ${(e as Error).message.split('\n')[0]}`);
      progress(`job failed: ${errors.at(-1)}`);
    }

    // Resume: a second job (different digits per task, so a different job), reloaded mid-way
    // with no grace: the tasks the page shows verified at that instant (read in the page, no
    // round trip between the check and the reload), against those verified after the resume.
    let resumeKeptRatio: number | null = null;
    let resumedAt: number | null = null;
    try {
      const resumeId = await submitMnist(sub.page, { digits: 1000, batch: 10 });
      const accepted = new Set(await verifiedWhen(sub.page, resumeId, RELOAD_AT_VERIFIED, 600_000));
      await sub.page.reload();
      await waitJoined(sub.page);
      const resumed = await waitJob(sub.page, resumeId, () => true, 60_000);
      const storedAfter = await storedResults(sub.page, resumeId);
      const kept = resumed.tasks.filter((t) => t.state === 'verified' && accepted.has(t.id)).length;
      resumeKeptRatio = accepted.size === 0 ? null : Number((kept / accepted.size).toFixed(4));
      resumedAt = Number((resumed.verified / resumed.total).toFixed(4));
      progress(
        `reload at ${accepted.size}/${resumed.total} shown verified: ${kept} of them kept; resumed with ${resumed.verified} verified (${storedAfter} results in IndexedDB just after)`,
      );
      await waitCompleted(sub.page, resumeId, 600_000);
      progress('the resumed job completed');
    } catch (e) {
      errors.push(`resume: ${(e as Error).message.split('\n')[0]}`);
      progress(`resume phase failed: ${errors.at(-1)}`);
    }

    // The tiny figure on a grid of its own, after this one is gone (it shares no core with it).
    const joinedMs = grid.joinedMs;
    await grid.close();
    grid = null;
    let tiny: Record<string, unknown> = NO_TINY;
    if (!values['no-tiny']) {
      try {
        tiny = await tinyFigure(browser);
      } catch (e) {
        errors.push(`tiny: ${(e as Error).message.split('\n')[0]}`);
        progress(`tiny figure failed: ${errors.at(-1)}`);
      }
    }

    return {
      tabs,
      nodeWorkers,
      formationMs,
      jobMs,
      resumeKeptRatio,
      joinedMs,
      joinMs,
      formationVsJoin: Number((formationMs / joinMs).toFixed(2)),
      resumedAt,
      localJobMs,
      jobVsLocal: jobMs === null ? null : Number((jobMs / localJobMs).toFixed(2)),
      ...tiny,
      ...(errors.length > 0 ? { errors } : {}),
    };
  } finally {
    await grid?.close();
    await browser.close();
    await killAllChildren();
    rmSync(page, { recursive: true, force: true });
  }
}

main().then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(result.errors ? 1 : 0);
  },
  (err: unknown) => {
    process.stderr.write(`bench:e2e failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);

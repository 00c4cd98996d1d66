/**
 * The page's part of `npm run bench:scale`: a page submitter in headless
 * Chromium (a persistent profile, so IndexedDB is on disk) runs a job of N
 * tiny tasks submitted as a user would (a manifest fanning the matmul `tiny`
 * model out over the rows of one .npy: one task group, `--replicas 1
 * --quorum 1` as the CLI's run), on 2 node workers and its own executor, at
 * each size. Prints per size: wall time per task (submit → completed), the
 * page's peak JS heap (CDP `Performance.getMetrics`, sampled every second),
 * the JS heap left after a forced collection at the end, the renderer's
 * peak RSS (/proc), and IndexedDB's size on disk. Progress on
 * stderr; the last stdout line is one JSON object, with ratios against the
 * smallest size of the same run (`timePerTaskRatio`,
 * `memoryGrowthBytesPerTask`: JS heap, `rendererRssGrowthBytesPerTask`).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumPath } from '../chromium.ts';
import { killAllChildren } from '../harness/children.ts';
import { preparePage } from '../harness/global-setup.ts';
import { submitManifestJob, writeTinyGroupJob } from '../harness/group-job.ts';
import { type NodeWorker, startNodeWorker, warmNodeWorker } from '../harness/node-workers.ts';
import { startSignaling } from '../harness/signaling.ts';
import { pageUrl, waitJoined } from '../harness/tabs.ts';

const HELP = `node --import tsx e2e/bench/scale-page.ts [options]
(or: npm run bench:scale -- --only page --page-sizes …)

A page submitter in headless Chromium runs jobs of N tiny tasks (a manifest over
one .npy: one task group; replicas 1, quorum 1) on node workers and its own
executor; prints wall time per task, the page's peak JS heap and renderer RSS,
and IndexedDB's size on disk, per size. Last stdout line: one JSON object.

  --sizes N,N,…      job sizes                           default: 10000,100000,200000
  --workers N        node workers (concurrency 1)        default: 2
  --tab-workers N    the submitter tab's own workers     default: 1
  --timeout-s S      give up on one size after S s       default: 3600
  -h, --help         this text`;

const say = (line: string) => process.stderr.write(`${line}\n`);
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
const MB = 2 ** 20;

/** Pids of a process's descendants (from /proc, by PPid). */
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    const pid = Number(e);
    if (!Number.isInteger(pid)) continue;
    try {
      const s = readFileSync(`/proc/${pid}/status`, 'utf8');
      parent.set(pid, Number(/PPid:\s+(\d+)/.exec(s)?.[1] ?? 0));
    } catch {}
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of parent) {
      if (pp !== p) continue;
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}

/** The browser's main process: the one whose command line names this profile. */
function browserPid(profile: string): number | null {
  for (const e of readdirSync('/proc')) {
    const pid = Number(e);
    if (!Number.isInteger(pid)) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes(`--user-data-dir=${profile}`) && !cmd.includes('--type=')) return pid;
    } catch {}
  }
  return null;
}

/** VmRSS of each renderer of the browser, MB (its page and the page's workers run in one). */
function rendererRss(browser: number): number[] {
  const out: number[] = [];
  for (const pid of descendants(browser)) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) continue;
      const s = readFileSync(`/proc/${pid}/status`, 'utf8');
      out.push(Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0) / 1024);
    } catch {}
  }
  return out;
}

const duBytes = (path: string): number => {
  try {
    return Number(execFileSync('du', ['-sb', path], { encoding: 'utf8' }).split('\t')[0]);
  } catch {
    return 0;
  }
};

interface Row {
  tasks: number;
  wallS: number;
  usPerTask: number;
  peakJsHeapMB: number;
  /** JS heap in use at the end, after a forced collection. */
  jsHeapAfterGcMB: number;
  peakRendererRssMB: number;
  indexedDbMB: number;
}

async function runSize(o: {
  n: number;
  httpUrl: string;
  grid: string;
  tabWorkers: number;
  timeoutS: number;
  dir: string;
}): Promise<Row> {
  const profile = mkdtempSync(join(o.dir, `profile-${o.n}-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1280, height: 860 },
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(pageUrl(o.httpUrl, { grid: o.grid, workers: o.tabWorkers, view: 'submit' }));
    await waitJoined(page);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const browser = browserPid(profile);
    let heapMB = 0;
    let rssMB = 0;
    const sample = async () => {
      const m = (await cdp.send('Performance.getMetrics')).metrics;
      const used = m.find((x) => x.name === 'JSHeapUsedSize')?.value ?? 0;
      heapMB = Math.max(heapMB, used / MB);
      if (browser !== null) rssMB = Math.max(rssMB, ...rendererRss(browser), 0);
    };
    await sample();
    const jobDir = mkdtempSync(join(o.dir, `job-${o.n}-`));
    const job = writeTinyGroupJob(jobDir, o.n);
    const t0 = performance.now();
    const jobId = await submitManifestJob(page, job);
    let lastSaid = 0;
    for (;;) {
      const s = await page.evaluate(
        (id) => window.peergrid?.jobs.get().find((j) => j.id === id) ?? null,
        jobId,
      );
      await sample().catch(() => {});
      const t = (performance.now() - t0) / 1000;
      if (s && t - lastSaid >= 5) {
        lastSaid = t;
        say(
          `  ${o.n} tasks: ${s.verified} verified after ${t.toFixed(0)} s (${s.state}); JS heap peak ${heapMB.toFixed(0)} MB, renderer ${rssMB.toFixed(0)} MB`,
        );
      }
      if (s?.state === 'completed') break;
      if (s && (s.state === 'failed' || s.state === 'cancelled'))
        throw new Error(`${o.n} tasks: the job ${s.state}`);
      if (t > o.timeoutS) throw new Error(`${o.n} tasks: not completed in ${o.timeoutS} s`);
      await page.waitForTimeout(1000);
    }
    const wallS = (performance.now() - t0) / 1000;
    await sample().catch(() => {});
    // What the page still holds once the job is done, garbage collected.
    await cdp.send('HeapProfiler.collectGarbage');
    const retained = (await cdp.send('Runtime.getHeapUsage')).usedSize / MB;
    rmSync(jobDir, { recursive: true, force: true });
    const idb = duBytes(join(profile, 'Default', 'IndexedDB'));
    return {
      tasks: o.n,
      wallS: round(wallS, 1),
      usPerTask: round((wallS * 1e6) / o.n, 1),
      peakJsHeapMB: round(heapMB, 1),
      jsHeapAfterGcMB: round(retained, 1),
      peakRendererRssMB: round(rssMB, 0),
      indexedDbMB: round(idb / MB, 1),
    };
  } finally {
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '10000,100000,200000' },
      workers: { type: 'string', default: '2' },
      'tab-workers': { type: 'string', default: '1' },
      'timeout-s': { type: 'string', default: '3600' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const sizes = values.sizes.split(',').map(Number);
  const nWorkers = Number(values.workers);
  const tabWorkers = Number(values['tab-workers']);
  const timeoutS = Number(values['timeout-s']);
  const int = (n: number, min: number) => Number.isInteger(n) && n >= min;
  if (
    sizes.some((n) => !int(n, 1)) ||
    !int(nWorkers, 1) ||
    !int(tabWorkers, 0) ||
    !(timeoutS > 0)
  ) {
    console.error(`bad --sizes, --workers, --tab-workers or --timeout-s\n\n${HELP}`);
    process.exit(2);
  }
  const dir = mkdtempSync(join(tmpdir(), 'peergrid-scale-page-'));
  const staticDir = preparePage(say);
  process.env.PEERGRID_E2E_STATIC = staticDir;
  warmNodeWorker();
  const signaling = await startSignaling();
  const grid = `scale-page-${process.pid}`;
  const workers: NodeWorker[] = [];
  const rows: Row[] = [];
  try {
    for (let i = 0; i < nWorkers; i++)
      workers.push(await startNodeWorker({ signal: signaling.wsUrl, grid, name: `worker-${i}` }));
    for (const n of sizes) {
      say(`scale (page): ${n} tasks…`);
      const row = await runSize({ n, httpUrl: signaling.httpUrl, grid, tabWorkers, timeoutS, dir });
      rows.push(row);
      say(
        `  ${n} tasks: ${row.wallS} s (${row.usPerTask} µs/task), peak JS heap ${row.peakJsHeapMB} MB (${row.jsHeapAfterGcMB} MB after GC at the end), renderer RSS ${row.peakRendererRssMB} MB, IndexedDB ${row.indexedDbMB} MB on disk`,
      );
    }
  } finally {
    await Promise.allSettled(workers.map((w) => w.stop()));
    await signaling.stop().catch(() => {});
    await killAllChildren();
    rmSync(dir, { recursive: true, force: true });
    rmSync(staticDir, { recursive: true, force: true });
  }
  const lo = rows[0] as Row;
  const hi = rows[rows.length - 1] as Row;
  const span = hi.tasks - lo.tasks;
  const perTask = (a: number, b: number) => (span > 0 ? round(((b - a) * MB) / span, 1) : 0);
  console.log(
    JSON.stringify({
      bench: 'scale-page',
      workers: nWorkers,
      tabWorkers,
      sizes: rows,
      timePerTaskRatio: round(hi.usPerTask / lo.usPerTask, 3),
      memoryGrowthBytesPerTask: perTask(lo.peakJsHeapMB, hi.peakJsHeapMB),
      retainedHeapGrowthBytesPerTask: perTask(lo.jsHeapAfterGcMB, hi.jsHeapAfterGcMB),
      rendererRssGrowthBytesPerTask: perTask(lo.peakRendererRssMB, hi.peakRendererRssMB),
      indexedDbBytesPerTask: round((hi.indexedDbMB * MB) / hi.tasks, 1),
    }),
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    void killAllChildren().finally(() => process.exit(1));
  },
);

/**
 * `npm run bench:scale`: does a job's cost stay flat as it grows? The
 * `peergrid` CLI runs `--workload matmul --preset tiny --replicas 1` at each
 * size (10k, 100k and 1M tasks by default) on a loopback grid of node
 * workers, as a separate process whose memory is read from /proc while it
 * runs. Prints, per size, wall time per task and the CLI's peak memory:
 * resident in all, its own (anonymous) part, and the file-backed part (code,
 * native libraries, and the job store's LMDB pages mapped in, which the
 * kernel takes back under pressure). Last line: one JSON object, with the time per task at the
 * largest size over the smallest (`timePerTaskRatio`) and the growth of the
 * CLI's own memory per task between them (`anonBytesPerTask`).
 *
 * Then the page (`e2e/bench/scale-page.ts`, run as a child): a page
 * submitter in headless Chromium runs the same tiny tasks, submitted as a
 * manifest over one .npy (one task group), on its own 2 node workers, at
 * 10k, 100k and 200k tasks by default; its JSON is the `page` field of the
 * last line (`--only cli` or `--only page` runs one side).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startSignalingServer } from '@peergrid/signaling';
import { exited, followCli, watchPeak } from './proc-memory.ts';

const USAGE = `npm run bench:scale -- [options]

Runs the peergrid CLI on tiny matmul tasks (--replicas 1) at several job
sizes on a loopback grid of node workers; prints wall time per task and the
CLI's peak memory (RSS, its own anonymous part, the job store's mapped file).

  --sizes N,N,…      job sizes of the CLI run         default: 10000,100000,1000000
  --page-sizes N,N,… job sizes of the page run        default: 10000,100000,200000
  --only cli|page    run one side only                default: both
  --workers N        node workers (concurrency 1)     default: 2
  -h, --help         this help

The page run is e2e/bench/scale-page.ts (headless Chromium, /usr/bin/chromium;
its --help lists what it measures).`;

const PAGE_BENCH = fileURLToPath(new URL('../../e2e/bench/scale-page.ts', import.meta.url));
const BIN = (name: string) => fileURLToPath(new URL(`../bin/${name}.js`, import.meta.url));
const say = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '10000,100000,1000000' },
      workers: { type: 'string', default: '2' },
      'page-sizes': { type: 'string', default: '10000,100000,200000' },
      only: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const sizes = values.sizes.split(',').map(Number);
  const pageSizes = values['page-sizes'].split(',').map(Number);
  const nWorkers = Number(values.workers);
  const only = values.only;
  const bad = (ns: number[]) => ns.some((n) => !Number.isInteger(n) || n < 1);
  if (
    bad(sizes) ||
    bad(pageSizes) ||
    !(nWorkers >= 1) ||
    (only !== undefined && only !== 'cli' && only !== 'page')
  ) {
    console.error(`bad --sizes, --page-sizes, --workers or --only\n\n${USAGE}`);
    process.exit(2);
  }
  const cliJson = only === 'page' ? null : await runCli(sizes, nWorkers);
  const page = only === 'cli' ? null : await runPage(pageSizes, nWorkers);
  console.log(JSON.stringify({ bench: 'scale', ...(cliJson ?? { workers: nWorkers }), page }));
  process.exit(0);
}

/**
 * The page run: e2e/bench/scale-page.ts as a child (Playwright lives in the
 * e2e workspace); its progress passes through, its last line is its JSON.
 */
async function runPage(sizes: number[], nWorkers: number): Promise<unknown> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', PAGE_BENCH, '--sizes', sizes.join(','), '--workers', String(nWorkers)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => {
    out += d;
  });
  const code = await exited(child);
  const last = out.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !last.startsWith('{')) throw new Error(`the page run exited ${code}`);
  return JSON.parse(last) as unknown;
}

/** The CLI run: `peergrid run` at each size; the CLI's figures of the JSON line. */
async function runCli(sizes: number[], nWorkers: number): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'peergrid-scale-'));
  const server = await startSignalingServer({ port: 0, host: '127.0.0.1' });
  const signal = server.url.replace(/^http/, 'ws');
  const grid = 'scale-bench';
  const workers = Array.from({ length: nWorkers }, (_, i) =>
    spawn(
      process.execPath,
      [BIN('peergrid-worker'), '--signal', signal, '--grid', grid, '--concurrency', '1'] //
        .concat(['--backend', 'cpu', '--cache', join(dir, `w${i}`), '--drain-s', '2']),
      { stdio: ['ignore', 'ignore', 'ignore'] },
    ),
  );
  const rows: Record<string, number>[] = [];
  try {
    for (const n of sizes) {
      const state = join(dir, `state-${n}`);
      say(`scale: ${n} tasks…`);
      const t0 = performance.now();
      const cli = spawn(
        process.execPath,
        [BIN('peergrid'), 'run', '--signal', signal, '--grid', grid, '--state', state] //
          .concat(['--workload', 'matmul', '--preset', 'tiny', '--tasks', String(n)])
          .concat(['--replicas', '1', '--quorum', '1']),
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      const followed = followCli(cli, say);
      const watch = watchPeak(cli.pid ?? -1, 100);
      const code = await exited(cli);
      watch.stop();
      const { peak } = watch;
      const wallS = (performance.now() - t0) / 1000;
      const summary = followed.summary();
      if (code !== 0 || !summary) throw new Error(`peergrid run of ${n} tasks exited ${code}`);
      const s = JSON.parse(summary) as { verified: number; state: string };
      if (s.verified !== n) throw new Error(`${n} tasks: ${s.verified} verified (${s.state})`);
      const storeMB = Number(
        execFileSync('du', ['-sm', state], { encoding: 'utf8' }).split('\t')[0],
      );
      const row = {
        tasks: n,
        wallS: round(wallS, 1),
        usPerTask: round((wallS * 1e6) / n, 1),
        peakRssMB: round(peak.rssMB, 0),
        peakAnonMB: round(peak.anonMB, 0),
        peakFileMB: round(peak.fileMB, 0),
        storeOnDiskMB: storeMB,
      };
      rows.push(row);
      say(
        `  ${n} tasks: ${row.wallS} s (${row.usPerTask} µs/task), peak RSS ${row.peakRssMB} MB` +
          ` (own ${row.peakAnonMB} MB, file-backed ${row.peakFileMB} MB: code, libraries, the store's mapped pages), store ${storeMB} MB on disk`,
      );
      rmSync(state, { recursive: true, force: true });
    }
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map(exited));
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const lo = rows[0]!;
  const hi = rows[rows.length - 1]!;
  const span = hi.tasks! - lo.tasks!;
  return {
    workers: nWorkers,
    sizes: rows,
    timePerTaskRatio: round(hi.usPerTask! / lo.usPerTask!, 3),
    anonBytesPerTask: span > 0 ? round(((hi.peakAnonMB! - lo.peakAnonMB!) * 2 ** 20) / span, 1) : 0,
    peakRssAtLargestMB: hi.peakRssMB,
    peakAnonAtLargestMB: hi.peakAnonMB,
  };
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

/**
 * `npm run bench:outputs`: does the CLI's memory stay flat when a job's
 * outputs exceed what it should hold? A manifest fans a model out over the
 * rows of one input; each task returns a float32 [1, K] block (x · ones), so
 * the job's outputs are tasks × K × 4 bytes (1 GiB by default). The `peergrid`
 * CLI runs it on a loopback grid of node workers (trusted by key, one result
 * per task, no local anchor: what is measured is the submitter) with
 * `--out results.npz` (streamed as tasks verify) and with `--out DIR/`,
 * and, as the baseline in the same run, the same job with K = 1 (4 bytes per
 * task). Peak memory is read from /proc while the CLI runs: resident in all,
 * its own (anonymous) part, and the file-backed part (code, libraries, and
 * the job store's LMDB pages, which the kernel takes back under pressure).
 * The archive's first entry and its entry count are checked. Last
 * line: one JSON object, with the peaks over the baseline's.
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { decodeNpy, encodeNpy, tensorFrom, tensorValues } from '@peergrid/shared';
import { startSignalingServer } from '@peergrid/signaling';
import { buildOnnxModel } from '../src/workloads/onnx-builder.ts';
import { exited, followCli, watchPeak } from './proc-memory.ts';

const USAGE = `npm run bench:outputs -- [options]

Runs the peergrid CLI on a job whose outputs total --gib GiB, written with
--out results.npz and --out DIR/, and on the same job with 4-byte outputs
(the baseline); prints the CLI's peak memory for each.

  --gib X        outputs of the big job, GiB             default: 1
  --tasks N      tasks (each returns X GiB / N)          default: 256
  --workers N    node workers (concurrency 1)            default: 2
  -h, --help     this help`;

const BIN = (name: string) => fileURLToPath(new URL(`../bin/${name}.js`, import.meta.url));
const say = (line: string) => process.stderr.write(`${line}\n`);
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** A model `y = x · ones[1, K]` (float32 [1, 1] → [1, K]) and a manifest over `tasks` rows. */
function writeJob(dir: string, k: number, tasks: number): string {
  writeFileSync(
    join(dir, 'fill.onnx'),
    buildOnnxModel({
      name: 'fill',
      inputs: [{ name: 'x', dtype: 'float32', dims: [1, 1] }],
      outputs: [{ name: 'y', dtype: 'float32', dims: [1, k] }],
      initializers: [{ name: 'ones', dims: [1, k], values: new Float32Array(k).fill(1) }],
      nodes: [{ op: 'MatMul', inputs: ['x', 'ones'], outputs: ['y'] }],
    }),
  );
  const x = Float32Array.from({ length: tasks }, (_, i) => i + 1);
  writeFileSync(join(dir, 'x.npy'), encodeNpy(tensorFrom('float32', [tasks, 1], x)));
  const manifest = join(dir, 'job.json');
  writeFileSync(
    manifest,
    JSON.stringify({
      name: `outputs ${k}`,
      models: { fill: 'fill.onnx' },
      tasks: [
        {
          id: 'fill',
          model: 'fill',
          forEach: { rows: 1 },
          feeds: { x: { file: 'x.npy', split: true } },
        },
      ],
      policy: { replicas: 1, quorum: 1 },
    }),
  );
  return manifest;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      gib: { type: 'string', default: '1' },
      tasks: { type: 'string', default: '256' },
      workers: { type: 'string', default: '2' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const gib = Number(values.gib);
  const tasks = Number(values.tasks);
  const nWorkers = Number(values.workers);
  if (!(gib > 0) || !Number.isInteger(tasks) || tasks < 1 || !(nWorkers >= 1)) {
    console.error(`bad --gib, --tasks or --workers\n\n${USAGE}`);
    process.exit(2);
  }
  const k = Math.max(1, Math.round((gib * 2 ** 30) / tasks / 4));
  const dir = mkdtempSync(join(tmpdir(), 'peergrid-outputs-'));
  const server = await startSignalingServer({ port: 0, host: '127.0.0.1' });
  const signal = server.url.replace(/^http/, 'ws');
  const grid = 'outputs-bench';
  const ids: string[] = [];
  const workers = Array.from({ length: nWorkers }, (_, i) => {
    const w = spawn(
      process.execPath,
      [BIN('peergrid-worker'), '--signal', signal, '--grid', grid, '--concurrency', '1'] //
        .concat(['--backend', 'cpu', '--cache', join(dir, `w${i}`), '--drain-s', '2']),
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let text = '';
    w.stderr?.setEncoding('utf8');
    w.stderr?.on('data', (d: string) => {
      text += d;
      const id = /joined grid '[^']*' as (\S+)/.exec(text)?.[1];
      if (id && !ids.includes(id)) ids.push(id);
    });
    return w;
  });
  const t0 = Date.now();
  while (ids.length < nWorkers) {
    if (Date.now() - t0 > 30_000) throw new Error('workers did not join');
    await new Promise((r) => setTimeout(r, 50));
  }
  const runs: Record<string, number | string>[] = [];
  const run = async (label: string, kk: number, out: string) => {
    const jobDir = mkdtempSync(join(dir, `${label}-`));
    const manifest = writeJob(jobDir, kk, tasks);
    const outPath = join(jobDir, out);
    say(`outputs: ${label}: ${tasks} tasks × ${round((kk * 4) / 2 ** 20, 3)} MiB → ${out}…`);
    const started = performance.now();
    const cli = spawn(
      process.execPath,
      [BIN('peergrid'), 'run', manifest, '--signal', signal, '--grid', grid] //
        .concat(['--state', join(jobDir, 'state'), '--out', outPath, '--no-local-anchor'])
        .concat(ids.flatMap((id) => ['--trusted-donor', id])),
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const followed = followCli(cli, say);
    const watch = watchPeak(cli.pid ?? -1, 50);
    const code = await exited(cli);
    watch.stop();
    const { peak } = watch;
    const anonPeakAt = watch.anonPeakAt() - started;
    const wallS = (performance.now() - started) / 1000;
    const summary = followed.summary();
    if (code !== 0 || !summary) throw new Error(`${label}: peergrid run exited ${code}`);
    const s = JSON.parse(summary) as { verified: number; state: string };
    if (s.verified !== tasks) throw new Error(`${label}: ${s.verified} of ${tasks} verified`);
    const outBytes = out.endsWith('/')
      ? readdirSync(outPath).reduce(
          (n, t) =>
            n +
            readdirSync(join(outPath, t)).reduce(
              (m, f) => m + statSync(join(outPath, t, f)).size,
              0,
            ),
          0,
        )
      : statSync(outPath).size;
    if (out.endsWith('.npz')) checkArchive(outPath, kk, tasks);
    const row = {
      run: label,
      outputsMiB: round((tasks * kk * 4) / 2 ** 20, 1),
      writtenMiB: round(outBytes / 2 ** 20, 1),
      wallS: round(wallS, 1),
      peakRssMB: round(peak.rssMB, 0),
      peakAnonMB: round(peak.anonMB, 0),
      peakFileMB: round(peak.fileMB, 0),
      /** When the CLI's own memory peaked, as a share of the run (1 = at its end). */
      anonPeakAtShare: round(anonPeakAt / 1000 / wallS, 2),
    };
    runs.push(row);
    say(
      `  ${label}: ${row.wallS} s, peak RSS ${row.peakRssMB} MB (own ${row.peakAnonMB} MB, file-backed ${row.peakFileMB} MB), wrote ${row.writtenMiB} MiB`,
    );
    rmSync(jobDir, { recursive: true, force: true });
    return row;
  };
  let base: Record<string, number | string>;
  let npz: Record<string, number | string>;
  let folder: Record<string, number | string>;
  try {
    base = await run('baseline', 1, 'results.npz');
    npz = await run('npz', k, 'results.npz');
    folder = await run('dir', k, 'out/');
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map(exited));
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const ratio = (a: Record<string, number | string>, key: string) =>
    round((a[key] as number) / (base[key] as number), 2);
  console.log(
    JSON.stringify({
      bench: 'outputs',
      tasks,
      workers: nWorkers,
      runs,
      outputsGiB: gib,
      npzPeakRssMB: npz.peakRssMB,
      npzPeakAnonMB: npz.peakAnonMB,
      dirPeakRssMB: folder.peakRssMB,
      npzRssVsBaseline: ratio(npz, 'peakRssMB'),
      npzAnonVsBaseline: ratio(npz, 'peakAnonMB'),
      dirRssVsBaseline: ratio(folder, 'peakRssMB'),
      dirAnonVsBaseline: ratio(folder, 'peakAnonMB'),
    }),
  );
  process.exit(0);
}

/**
 * The archive's first entry is task i's block, (i + 1) · ones, and its end
 * record counts every task: read from the file's two ends, not whole (it may
 * be larger than a buffer can be).
 */
function checkArchive(path: string, k: number, tasks: number): void {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(30 + 64);
    readSync(fd, head, 0, head.length, 0);
    if (head.readUInt32LE(0) !== 0x04034b50) throw new Error(`${path}: not a zip`);
    const nameLen = head.readUInt16LE(26);
    const extraLen = head.readUInt16LE(28);
    const name = head.subarray(30, 30 + nameLen).toString('utf8');
    const m = /^fill-(\d+)\/y\.npy$/.exec(name);
    if (!m) throw new Error(`${path}: unexpected first entry ${name}`);
    const npy = Buffer.alloc(128 + k * 4);
    readSync(fd, npy, 0, npy.length, 30 + nameLen + extraLen);
    const r = decodeNpy(new Uint8Array(npy.buffer, npy.byteOffset, npy.byteLength));
    if (!r.ok) throw new Error(`${path}: ${name}: ${r.error}`);
    const want = Number(m[1]) + 1;
    if ((tensorValues(r.tensor) as Float32Array).some((v) => v !== want)) {
      throw new Error(`${path}: ${name} is not ${want} · ones`);
    }
    const end = Buffer.alloc(22);
    readSync(fd, end, 0, 22, statSync(path).size - 22);
    if (end.readUInt32LE(0) !== 0x06054b50 || end.readUInt16LE(10) !== tasks) {
      throw new Error(`${path}: the end record does not count ${tasks} entries`);
    }
  } finally {
    closeSync(fd);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

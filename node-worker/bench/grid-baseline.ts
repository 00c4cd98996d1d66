/**
 * The baseline of bench:grid: the donor processes as `peergrid-worker` runs
 * them (same count, same concurrency, onnxruntime-node CPU in runner
 * processes), each fed its share of the same tasks from a local queue inside
 * itself, on the donors' cores: no network, no verification, no scheduling.
 * The limit of the donors' cores for that work.
 *
 * Run as a child (`grid-baseline.ts --preset P --tasks N --seed S --donors D
 * --index I --concurrency C`), it is donor I: it prints `{"ready":true}` once
 * warm, starts on a line on stdin, and prints `{"tasks":…,"computeMs":…}`.
 */
import { parseArgs } from 'node:util';
import type { Executor, Tensor } from '@peergrid/shared';
import { createNodeExecutor } from '../src/exec/node-executor.ts';
import { createMatmulJob } from '../src/workloads/index.ts';
import { onLines, spawnBenchChild } from './child.ts';
import type { Pinning } from './pinning.ts';

export interface BaselineWork {
  readonly preset: 'ms20' | 'ms2' | 'tiny';
  readonly tasks: number;
  readonly seed: number;
  /** Runs each donor makes before the start (default: one per runner, to load the model). */
  readonly warmUp?: number;
}

export interface BaselineFigures {
  readonly tasksPerSec: number;
  /** Mean pure compute of one run as the runners timed it, ms. */
  readonly computeMsPerTask: number;
}

/**
 * Runs the baseline as the donors run: one process per donor on the donors'
 * cores, each with its own executor (same concurrency) fed its share of the
 * tasks from a local queue. Each warms its runners up, then all start at
 * once; the time runs from that start to the last one's end.
 */
export async function baseline(
  pinning: Pinning,
  work: BaselineWork,
  donors: number,
  concurrency: number,
): Promise<BaselineFigures> {
  const children = Array.from({ length: donors }, (_, i) =>
    spawnBenchChild(
      pinning,
      './grid-baseline.ts',
      [
        ...['--preset', work.preset, '--tasks', String(work.tasks), '--seed', String(work.seed)],
        ...['--donors', String(donors), '--index', String(i), '--concurrency', String(concurrency)],
        ...['--warm-up', String(Math.ceil((work.warmUp ?? 0) / donors))],
      ],
      'pipe',
    ),
  );
  // Each child's "ready" and then its share's figures, as lines: the time stops at the
  // last share's line, not at the exits (closing the runners is no part of the work).
  let onReady: (() => void)[] = [];
  const ready = children.map(
    (c) =>
      new Promise<void>((resolve, reject) => {
        c.once('exit', (code) => {
          if (code !== 0) reject(new Error(`baseline donor exited with ${code}`));
        });
        onReady.push(resolve);
      }),
  );
  const results = children.map(
    (c, i) =>
      new Promise<{ share: DonorShare; at: number }>((resolve, reject) => {
        c.once('exit', (code) => {
          if (code !== 0) reject(new Error(`baseline donor exited with ${code}`));
        });
        onLines(c, (line) => {
          let m: { ready?: boolean } & Partial<DonorShare>;
          try {
            m = JSON.parse(line);
          } catch {
            return; // not a figures line
          }
          if (m.ready) onReady[i]?.();
          else if (typeof m.tasks === 'number')
            resolve({ share: m as DonorShare, at: performance.now() });
        });
      }),
  );
  await Promise.all(ready);
  onReady = [];
  const t0 = performance.now();
  for (const c of children) c.stdin?.end('go\n');
  const done = await Promise.all(results);
  const seconds = (Math.max(...done.map((d) => d.at)) - t0) / 1000;
  const shares = done.map((d) => d.share);
  const computeMs = shares.reduce((a, x) => a + x.computeMs, 0);
  return { tasksPerSec: work.tasks / seconds, computeMsPerTask: computeMs / work.tasks };
}

interface DonorShare {
  readonly tasks: number;
  readonly computeMs: number;
}

/** One baseline donor: tasks index, index + donors, … through its own executor, after "go" on stdin. */
async function donorShare(
  work: BaselineWork,
  donors: number,
  index: number,
  concurrency: number,
): Promise<DonorShare> {
  const spec = createMatmulJob(work).spec;
  const ex: Executor = createNodeExecutor({ backend: 'cpu', concurrency });
  let computeMs = 0;
  const run = async (i: number) => {
    const t = spec.tasks[i]!;
    const feeds: Record<string, Tensor> = {};
    for (const [k, f] of Object.entries(t.feeds)) if ('tensor' in f) feeds[k] = f.tensor;
    const r = await ex.run({
      modelHash: t.model,
      model: spec.models[t.model]!,
      feeds,
      timeoutMs: 60_000,
    });
    return r.computeMs;
  };
  try {
    // Warm-up: every runner loads the model, and the hot paths are compiled (`warmUp` runs).
    const warm = Math.max(concurrency, work.warmUp ?? 0);
    let w = 0;
    await Promise.all(
      Array.from({ length: ex.concurrency + (ex.prefetch ?? 0) }, async () => {
        for (let k = w++; k < warm; k = w++) await run(k % spec.tasks.length);
      }),
    );
    console.log(JSON.stringify({ ready: true }));
    await new Promise<void>((resolve) => {
      process.stdin.once('data', () => resolve());
      process.stdin.once('end', () => resolve());
    });
    const mine: number[] = [];
    for (let i = index; i < spec.tasks.length; i += donors) mine.push(i);
    let next = 0;
    // As a donor feeds its executor: its slots, and the runs it takes early to batch them.
    await Promise.all(
      Array.from({ length: ex.concurrency + (ex.prefetch ?? 0) }, async () => {
        for (let k = next++; k < mine.length; k = next++) computeMs += await run(mine[k]!);
      }),
    );
    return { tasks: mine.length, computeMs };
  } finally {
    await ex.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values: v } = parseArgs({
    options: {
      preset: { type: 'string' },
      tasks: { type: 'string' },
      seed: { type: 'string', default: '1' },
      donors: { type: 'string', default: '4' },
      index: { type: 'string', default: '0' },
      concurrency: { type: 'string', default: '1' },
      'warm-up': { type: 'string', default: '0' },
    },
  });
  const work = {
    preset: v.preset as BaselineWork['preset'],
    tasks: Number(v.tasks),
    seed: Number(v.seed),
    warmUp: Number(v['warm-up']),
  };
  donorShare(work, Number(v.donors), Number(v.index), Number(v.concurrency)).then(
    (f) => {
      console.log(JSON.stringify(f));
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}

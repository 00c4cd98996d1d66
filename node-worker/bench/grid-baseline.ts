/**
 * The baseline of bench:grid: the donors' executors (same count, same
 * concurrency, onnxruntime-node CPU in runner processes, as `peergrid-worker`
 * runs them) fed the same tasks from a local queue, in a process on the
 * donors' cores: no network, no verification, no scheduling. The limit of
 * the donors' cores for that work.
 *
 * Run as a child (`grid-baseline.ts --preset P --tasks N --seed S --donors D
 * --concurrency C`), it prints `{"tasksPerSec":…,"computeMsPerTask":…}`.
 */
import { parseArgs } from 'node:util';
import type { Executor, Tensor } from '@peergrid/shared';
import { createNodeExecutor } from '../src/exec/node-executor.ts';
import { createMatmulJob } from '../src/workloads/index.ts';
import { childResult, spawnBenchChild } from './child.ts';
import type { Pinning } from './pinning.ts';

export interface BaselineWork {
  readonly preset: 'ms20' | 'ms2' | 'tiny';
  readonly tasks: number;
  readonly seed: number;
}

export interface BaselineFigures {
  readonly tasksPerSec: number;
  /** Mean pure compute of one run as the runners timed it, ms. */
  readonly computeMsPerTask: number;
}

/** Runs the baseline in a child on the donors' cores. */
export function baseline(
  pinning: Pinning,
  work: BaselineWork,
  donors: number,
  concurrency: number,
): Promise<BaselineFigures> {
  const args = [
    ...['--preset', work.preset, '--tasks', String(work.tasks), '--seed', String(work.seed)],
    ...['--donors', String(donors), '--concurrency', String(concurrency)],
  ];
  return childResult<BaselineFigures>(spawnBenchChild(pinning, './grid-baseline.ts', args));
}

async function localRun(
  work: BaselineWork,
  donors: number,
  concurrency: number,
): Promise<BaselineFigures> {
  const spec = createMatmulJob(work).spec;
  const executors: Executor[] = Array.from({ length: donors }, () =>
    createNodeExecutor({ backend: 'cpu', concurrency }),
  );
  let computeMs = 0;
  const run = async (ex: Executor, i: number) => {
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
    // Warm-up: every runner loads the model once.
    await Promise.all(
      executors.flatMap((ex) => Array.from({ length: concurrency }, (_, j) => run(ex, j))),
    );
    let next = 0;
    const t0 = performance.now();
    // As a donor feeds its executor: its slots, and the runs it takes early to batch them.
    await Promise.all(
      executors.flatMap((ex) =>
        Array.from({ length: ex.concurrency + (ex.prefetch ?? 0) }, async () => {
          for (let i = next++; i < spec.tasks.length; i = next++) computeMs += await run(ex, i);
        }),
      ),
    );
    const seconds = (performance.now() - t0) / 1000;
    return {
      tasksPerSec: spec.tasks.length / seconds,
      computeMsPerTask: computeMs / spec.tasks.length,
    };
  } finally {
    await Promise.all(executors.map((ex) => ex.close()));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values: v } = parseArgs({
    options: {
      preset: { type: 'string' },
      tasks: { type: 'string' },
      seed: { type: 'string', default: '1' },
      donors: { type: 'string', default: '4' },
      concurrency: { type: 'string', default: '1' },
    },
  });
  const work = {
    preset: v.preset as BaselineWork['preset'],
    tasks: Number(v.tasks),
    seed: Number(v.seed),
  };
  localRun(work, Number(v.donors), Number(v.concurrency)).then(
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

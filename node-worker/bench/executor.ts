/**
 * bench:exec — what crossing to the ORT runner processes costs a donor, with
 * runs sent one per message (maxBatch 1, as before batching) and in batches
 * (the default), on the same near-empty tasks in the same run. A donor keeps
 * its slots and what the executor prefetches in flight, as the donor agent
 * does. Figures are the donor process's own CPU per run (the runners' is
 * theirs) and runs per second; the last line is one JSON object.
 *
 *   npm run bench:exec -- [--runs 4000] [--concurrency 1] [--rounds 2]
 */
import { parseArgs } from 'node:util';
import type { Tensor } from '@peergrid/shared';
import { createNodeExecutor, NODE_EXECUTOR_DEFAULTS } from '../src/exec/node-executor.ts';
import { createMatmulJob } from '../src/workloads/index.ts';

const USAGE = `npm run bench:exec -- [options]
  --runs N          near-empty runs per measurement (default 4000)
  --concurrency N   runner processes (default 1)
  --rounds N        alternating rounds of each mode, best of each (default 2)`;

const log = (line: string) => process.stderr.write(`${line}\n`);

async function measure(maxBatch: number, runs: number, concurrency: number) {
  const spec = createMatmulJob({ preset: 'tiny', tasks: runs, seed: 1 }).spec;
  const ex = createNodeExecutor({ backend: 'cpu', concurrency, maxBatch });
  const run = (i: number) => {
    const t = spec.tasks[i]!;
    const x = t.feeds.x as { tensor: Tensor };
    return ex.run({
      modelHash: t.model,
      model: spec.models[t.model]!,
      feeds: { x: x.tensor },
      timeoutMs: 30_000,
    });
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, (_, i) => run(i)));
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let next = 0;
    const inFlight = ex.concurrency + (ex.prefetch ?? 0);
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        for (let i = next++; i < runs; i = next++) await run(i);
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    return {
      runsPerSec: runs / seconds,
      cpuUsPerRun: (cpu.user + cpu.system) / runs,
      messagesPerRun: ex.ipcStats().messagesToRunners / runs,
    };
  } finally {
    await ex.close();
  }
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      runs: { type: 'string', default: '4000' },
      concurrency: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '2' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (v.help) {
    console.log(USAGE);
    return;
  }
  const runs = Number(v.runs);
  const concurrency = Number(v.concurrency);
  const batch = NODE_EXECUTOR_DEFAULTS.maxBatch;
  type M = Awaited<ReturnType<typeof measure>>;
  let single: M | undefined;
  let batched: M | undefined;
  const better = (a: M | undefined, b: M) => (!a || b.runsPerSec > a.runsPerSec ? b : a);
  for (let round = 1; round <= Number(v.rounds); round++) {
    log(`round ${round}: ${runs} runs, one per message …`);
    single = better(single, await measure(1, runs, concurrency));
    log(`round ${round}: ${runs} runs, up to ${batch} per message …`);
    batched = better(batched, await measure(batch, runs, concurrency));
  }
  const r = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
  log(
    `one per message: ${r(single!.runsPerSec, 0)} runs/s, ${r(single!.cpuUsPerRun)} µs CPU per run; ` +
      `batched: ${r(batched!.runsPerSec, 0)} runs/s, ${r(batched!.cpuUsPerRun)} µs CPU per run`,
  );
  console.log(
    JSON.stringify({
      batchedVsSingleRunsPerSec: r(batched!.runsPerSec / single!.runsPerSec, 3),
      batchedVsSingleCpuPerRun: r(batched!.cpuUsPerRun / single!.cpuUsPerRun, 3),
      singleRunsPerSec: r(single!.runsPerSec, 0),
      batchedRunsPerSec: r(batched!.runsPerSec, 0),
      singleCpuUsPerRun: r(single!.cpuUsPerRun),
      batchedCpuUsPerRun: r(batched!.cpuUsPerRun),
      batchedMessagesPerRun: r(batched!.messagesPerRun, 3),
      maxBatch: batch,
      runs,
      concurrency,
    }),
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

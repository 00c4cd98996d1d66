/**
 * The submitter of the tiny-task figure (`npm run bench:e2e -- --tiny`): a
 * Node peer with the shared job runner, as bench:grid's submitter
 * (node-worker/bench/grid-cluster.ts), so the figure differs from
 * bench:grid's `tinyTasksPerSec` in its donors only (tabs here). It waits for
 * `--donors` donors in the grid, runs a short warm-up job (links opened, the
 * model in every donor's worker, lease windows sized), then the timed job of
 * `--tasks` tasks of the matmul `tiny` preset (inputs seeded from `--seed`)
 * under bench:grid's transport-only policy (one replica, no audits, target
 * error near 1: no anchor needed). Progress on stderr; the last stdout line is
 *   tiny-result {"tasks","seconds","tasksPerSec","donors":[{"id","reported"}]}
 *
 *   node --import tsx e2e/harness/tiny-submitter-cli.ts --signal WS --grid NAME
 *     --donors N --tasks N --pipeline P --warm N --seed S
 */
import { parseArgs } from 'node:util';
import { createIdentity, createMemoryBlobCache, type JobSpec } from '@peergrid/shared';
import { TRANSPORT_ONLY, timeJob } from '../../node-worker/bench/grid-cluster.ts';
import { connectNodeGridPeer } from '../../node-worker/src/worker/node-grid-peer.ts';
import { nodeSubtle } from '../../node-worker/src/worker/node-identity.ts';
import { createMatmulJob } from '../../node-worker/src/workloads/index.ts';

/** How long the donors may take to show up in the grid, ms. Default 60 000. */
const DONORS_MS = 60_000;
/** Input seed of the warm-up job's first task (far from the timed job's). */
const WARM_SEED = 90_000;

const { values } = parseArgs({
  options: {
    signal: { type: 'string' },
    grid: { type: 'string' },
    donors: { type: 'string', default: '4' },
    tasks: { type: 'string', default: '3000' },
    pipeline: { type: 'string', default: '32' },
    warm: { type: 'string', default: '64' },
    seed: { type: 'string', default: '1' },
  },
});
const log = (line: string) => process.stderr.write(`${line}\n`);
const donors = Number(values.donors);
const tasks = Number(values.tasks);
const pipeline = Number(values.pipeline);
const warm = Number(values.warm);
const seed = Number(values.seed);
if (!values.signal || !values.grid || !(donors >= 1) || !(tasks >= 1) || !(pipeline >= 1)) {
  log('usage: tiny-submitter-cli.ts --signal WS --grid NAME --donors N --tasks N --pipeline P');
  process.exit(2);
}

const spec = (n: number, seed: number): JobSpec => ({
  ...createMatmulJob({ preset: 'tiny', tasks: n, seed }).spec,
  policy: TRANSPORT_ONLY,
});

const peer = await connectNodeGridPeer({
  signal: values.signal,
  grid: values.grid,
  identity: await createIdentity(nodeSubtle),
  capabilities: { runtime: 'node', backends: [], cores: 1, memoryMB: 0, maxConcurrency: 0 },
  cache: createMemoryBlobCache(),
});
try {
  const t0 = Date.now();
  const seen = () =>
    [...peer.signaling.peers().values()].filter((p) => p.capabilities.maxConcurrency > 0).length;
  while (seen() < donors) {
    if (Date.now() - t0 > DONORS_MS)
      throw new Error(`${seen()} of ${donors} donors in the grid after ${DONORS_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (warm > 0) {
    const w = await timeJob(peer, spec(warm, WARM_SEED), pipeline, log);
    log(`warm-up: ${warm} tasks in ${w.seconds.toFixed(2)} s`);
  }
  const run = await timeJob(peer, spec(tasks, seed), pipeline, log);
  const result = {
    tasks,
    seconds: Number(run.seconds.toFixed(3)),
    tasksPerSec: Number(run.tasksPerSec.toFixed(1)),
    donors: run.outcome.progress.donors.map((d) => ({ id: d.id, reported: d.reported })),
  };
  process.stdout.write(`tiny-result ${JSON.stringify(result)}\n`);
} finally {
  await peer.shutdown();
}
process.exit(0);

/**
 * Micro-benchmark of the submitter's per-task work, in one process:
 * 1. the job engine alone, fed by zero-cost donors (assign → ack → report at once);
 * 2. the peer message codec: encode + decode of one assign and one result frame.
 * Run: `npx tsx shared/bench/engine-throughput.ts [--tasks N] [--donors N] [--help]`.
 * Figures are per CPU time of this process (steadier than wall time on a
 * shared machine): tasks/s = tasks ÷ CPU seconds. Prints figures; last line one JSON object.
 */
import type { Executor } from '../src/contracts.ts';
import { createDonorNode } from '../src/grid/donor-node.ts';
import { createJobRunner } from '../src/grid/job-runner.ts';
import { prepareJob } from '../src/grid/prepare-job.ts';
import { createJobEngine } from '../src/job/engine.ts';
import { createReputationBook } from '../src/job/reputation.ts';
import type { JobSpec, Policy } from '../src/job/spec.ts';
import type { EngineAction } from '../src/job/types.ts';
import { decodePeerMessage, encodePeerMessage } from '../src/peer/message-codec.ts';
import { type Sha256Hex, seededRandom, type Timers } from '../src/platform.ts';
import { createMemoryJobStore } from '../src/store/memory-store.ts';
import { tensorFrom } from '../src/tensor.ts';
import { createMemoryGrid } from '../test/grid/memory-grid.ts';

declare const process: {
  argv: string[];
  exit(code: number): never;
  cpuUsage(): { user: number; system: number };
};
/** Process CPU time, ms: steadier than wall time on a shared machine. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
declare const performance: { now(): number };
declare const setTimeout: (fn: () => void, ms: number) => unknown;
declare const clearTimeout: (h: unknown) => void;
// Node's synchronous hash, as the node worker uses (WebCrypto's async digest costs ~50 µs a call).
const { createHash } = (await import('node:crypto' as string)) as {
  createHash(alg: string): { update(b: Uint8Array): { digest(enc: string): string } };
};
const sha256: Sha256Hex = async (b) => createHash('sha256').update(b).digest('hex');
const timers: Timers = { setTimeout, clearTimeout };

const HELP = `usage: npx tsx shared/bench/engine-throughput.ts [--tasks N] [--donors N]
  --tasks N    tasks per engine run (default 20000)
  --donors N   zero-cost donors, 16 leases in flight each (default 4)
  --grid-tasks N  tasks through runner + links + donor agents (default 5000)
  --grid-only  only the runner + links + donor agents figure`;
const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log(HELP);
  process.exit(0);
}
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const nTasks = arg('tasks', 20_000);
const nDonors = arg('donors', 4);
const model = '0'.repeat(64);
/** As bench:grid's TRANSPORT_ONLY: no audits, a target near 1, so results are final as they come. */
const BARE: Partial<Policy> = {
  auditRate: 0,
  soloAuditRate: 0,
  youngAuditRate: 0,
  targetError: 0.99,
};

function engineRun(policy: Partial<Policy>) {
  const tasks = Array.from({ length: nTasks }, (_, i) => ({
    id: `t${i}`,
    model,
    feeds: { x: { tensor: tensorFrom('int32', [1], new Int32Array([i])) } },
  }));
  const spec: JobSpec = { models: { [model]: new Uint8Array([1]) }, tasks, policy };
  let now = 0;
  const engine = createJobEngine({
    jobId: 'bench',
    spec,
    now: () => now,
    random: seededRandom(1),
    reputation: createReputationBook(),
    maxInFlightPerDonor: 256, // as `prepareJob` sets it
  });
  const queue: Extract<EngineAction, { type: 'assign' }>[] = [];
  const take = (acts: EngineAction[]) => {
    for (const a of acts) if (a.type === 'assign') queue.push(a);
  };
  let inputs = 0;
  const t0 = cpuMs();
  for (let d = 0; d < nDonors; d++) {
    take(
      engine.donorAvailable({
        id: `d${d}`,
        capabilities: {
          runtime: 'node',
          backends: ['cpu'],
          cores: 8,
          memoryMB: 1,
          maxConcurrency: 16,
        },
      }),
    );
    inputs++;
  }
  const y = { y: tensorFrom('int32', [1], new Int32Array([1])) };
  for (let head = 0; head < queue.length; head++) {
    const a = queue[head]!;
    now++;
    take(engine.acked(a.leaseId));
    take(engine.reported(a.leaseId, y, 0));
    inputs += 2;
    if (head % 1000 === 0) {
      engine.takeEvents();
      engine.takeDelta();
    }
  }
  const ms = cpuMs() - t0;
  const p = engine.progress();
  if (p.state !== 'completed') throw new Error(`engine run ended ${p.state}`);
  return { tasksPerSec: Math.round(nTasks / (ms / 1000)), usPerInput: (ms * 1000) / inputs };
}

function codecRun() {
  const n = 20_000;
  const feeds = { x: tensorFrom('float32', [4], new Float32Array(4)) };
  const t0 = cpuMs();
  for (let i = 0; i < n; i++) {
    const assign = encodePeerMessage({
      type: 'assign',
      leaseId: `l${i}`,
      jobId: 'bench',
      modelHash: model,
      modelBytes: 1000,
      feeds,
      deadlineMs: 60_000,
    });
    if (!decodePeerMessage(assign)) throw new Error('assign did not round-trip');
    const result = encodePeerMessage({
      type: 'result',
      leaseId: `l${i}`,
      outputs: feeds,
      digest: model,
      computeMs: 0,
      backend: 'cpu',
    });
    if (!decodePeerMessage(result)) throw new Error('result did not round-trip');
  }
  const ms = cpuMs() - t0;
  return { tasksPerSec: Math.round(n / (ms / 1000)), usPerTask: (ms * 1000) / n };
}

/** Submitter runner → memory links → donor nodes with a zero-cost executor. */
async function gridRun(n: number) {
  const grid = createMemoryGrid({ now: () => performance.now(), timers, sha256 });
  const executor: Executor = {
    concurrency: 4,
    backends: async () => ['cpu'],
    close: async () => {},
    run: async (req) => ({ outputs: { y: req.feeds.x! }, backend: 'cpu', computeMs: 0 }),
  };
  const caps = {
    runtime: 'node',
    backends: ['cpu'],
    cores: 4,
    memoryMB: 1,
    maxConcurrency: 4,
  } as const;
  const nodes = Array.from({ length: nDonors }, (_, i) =>
    createDonorNode({ peer: grid.join(`d${i}`, caps), executor, sha256, timers, meshSize: 0 }),
  );
  const submitter = grid.join('s', { ...caps, maxConcurrency: 0 });
  const modelBytes = new Uint8Array([1, 2, 3]);
  const hash = await sha256(modelBytes);
  const spec: JobSpec = {
    models: { [hash]: modelBytes },
    tasks: Array.from({ length: n }, (_, i) => ({
      id: `t${i}`,
      model: hash,
      feeds: { x: { tensor: tensorFrom('int32', [1], new Int32Array([i])) } },
    })),
    policy: { ...BARE, replicas: 1, quorum: 1 },
  };
  const store = createMemoryJobStore();
  const reputation = createReputationBook();
  const t0 = cpuMs();
  const prepared = await prepareJob({
    spec,
    store,
    sha256,
    now: () => performance.now(),
    random: seededRandom(2),
    reputation,
  });
  const runner = createJobRunner({
    peer: submitter,
    engine: prepared.engine,
    spec,
    store,
    reputation,
    now: () => performance.now(),
    timers,
  });
  const out = await runner.done;
  const ms = cpuMs() - t0;
  for (const node of nodes) node.close();
  grid.close();
  if (out.state !== 'completed') throw new Error(`grid run ended ${out.state}`);
  return { tasksPerSec: Math.round(n / (ms / 1000)), usPerTask: (ms * 1000) / n };
}

if (args.includes('--grid-only')) {
  await gridRun(500);
  const g = await gridRun(arg('grid-tasks', 5000));
  console.log(JSON.stringify({ gridTasksPerSec: g.tasksPerSec, gridUsPerTask: g.usPerTask }));
  process.exit(0);
}
engineRun({ ...BARE, replicas: 1, quorum: 1 }); // warm-up
const r1 = engineRun({ ...BARE, replicas: 1, quorum: 1 });
console.log(
  `engine, replicas 1: ${r1.tasksPerSec} tasks/s, ${r1.usPerInput.toFixed(2)} µs per input`,
);
const r2 = engineRun({ ...BARE, adaptive: false });
console.log(
  `engine, replicas 2: ${r2.tasksPerSec} tasks/s, ${r2.usPerInput.toFixed(2)} µs per input`,
);
codecRun();
const c = codecRun();
console.log(
  `codec (assign + result, encode + decode): ${c.tasksPerSec} tasks/s, ${c.usPerTask.toFixed(2)} µs per task`,
);
await gridRun(500);
const g = await gridRun(arg('grid-tasks', 5000));
console.log(
  `grid over memory links (replicas 1): ${g.tasksPerSec} tasks/s, ${g.usPerTask.toFixed(1)} µs per task`,
);
console.log(
  JSON.stringify({
    gridTasksPerSec: g.tasksPerSec,
    gridUsPerTask: Number(g.usPerTask.toFixed(2)),
    tasks: nTasks,
    donors: nDonors,
    engineTasksPerSecReplicas1: r1.tasksPerSec,
    engineUsPerInputReplicas1: Number(r1.usPerInput.toFixed(3)),
    engineTasksPerSecReplicas2: r2.tasksPerSec,
    engineUsPerInputReplicas2: Number(r2.usPerInput.toFixed(3)),
    codecTasksPerSec: c.tasksPerSec,
    codecUsPerTask: Number(c.usPerTask.toFixed(3)),
  }),
);

/**
 * A discrete-event simulation of one job on a volunteer grid: virtual clock,
 * seeded randomness, donors of different speeds with latency and churn, and
 * saboteurs. It drives the production `JobEngine` unchanged.
 */
import type { Capabilities } from '../contracts.ts';
import { createJobEngine } from '../job/engine.ts';
import { createReputationBook, type ReputationOptions } from '../job/reputation.ts';
import type { JobSpec, Policy, TaskSpec } from '../job/spec.ts';
import type { EngineAction } from '../job/types.ts';
import { type Random, seededRandom } from '../platform.ts';
import { type Tensor, type TensorMap, tensorFrom } from '../tensor.ts';
import { createEventQueue } from './event-queue.ts';

export interface SimOptions {
  readonly tasks: number;
  /** Default 50. */
  readonly donors?: number;
  /** Fraction of donors that are saboteurs. */
  readonly f: number;
  /** Probability a saboteur lies on a given task. */
  readonly s: number;
  /** Saboteurs give the same wrong answer (else each its own). */
  readonly colluding: boolean;
  readonly seed?: number;
  /** Mean compute time of a task on a speed-1 donor, ms. Default 1000. */
  readonly taskMs?: number;
  /** Mean online / offline spell of a donor, ms (churn). Defaults 30 min / 2 min. */
  readonly onlineMs?: number;
  readonly offlineMs?: number;
  /** Share of tasks counted as warm-up. Default 0.1. */
  readonly warmup?: number;
  readonly policy?: Partial<Policy>;
  /** Trust and exclusion thresholds. Default: the book's defaults. */
  readonly reputation?: ReputationOptions;
  /** Called now and then with the share of tasks verified. */
  readonly onProgress?: (done: number) => void;
}

export interface SimResult {
  readonly f: number;
  readonly s: number;
  readonly colluding: boolean;
  readonly tasks: number;
  readonly acceptedWrong: number;
  readonly acceptedWrongRate: number;
  readonly resultsPerTask: number;
  readonly resultsPerTaskAfterWarmup: number;
  readonly failedTasks: number;
  readonly makespanRatio: number;
  readonly spotChecks: number;
  readonly excludedSaboteurs: number;
  readonly excludedHonest: number;
  readonly reopened: number;
}

interface SimDonor {
  readonly id: string;
  readonly index: number;
  readonly saboteur: boolean;
  readonly speed: number;
  readonly latency: number;
  readonly caps: Capabilities;
  online: boolean;
  /** Incarnation: bumped on each departure so stale events are dropped. */
  epoch: number;
  running: number;
  readonly queue: Extract<EngineAction, { type: 'assign' }>[];
  readonly cancelled: Set<string>;
}

const TICK_MS = 2_000;

/** What task `i` computes: a 32-bit mix of its input. */
function truth(x: number): number {
  let h = Math.imul(x ^ 0x9e3779b9, 0x85ebca6b);
  h ^= h >>> 13;
  return Math.imul(h, 0xc2b2ae35) | 0;
}

const int32 = (v: number): Tensor => tensorFrom('int32', [1], new Int32Array([v]));
const readInt = (t: Tensor | undefined): number =>
  t ? new DataView(t.data.buffer, t.data.byteOffset).getInt32(0, true) : Number.NaN;

function exp(random: Random, mean: number): number {
  return -Math.log(1 - random()) * mean;
}

export function runSimulation(o: SimOptions): SimResult {
  const random = seededRandom(o.seed ?? 1);
  const engineRandom = seededRandom((o.seed ?? 1) ^ 0x5bd1e995);
  const taskMs = o.taskMs ?? 1000;
  const onlineMs = o.onlineMs ?? 30 * 60_000;
  const offlineMs = o.offlineMs ?? 2 * 60_000;
  const nDonors = o.donors ?? 50;
  let now = 0;
  const queue = createEventQueue();

  const model = new Uint8Array([1]);
  const tasks: TaskSpec[] = [];
  for (let i = 0; i < o.tasks; i++) {
    tasks.push({ id: `t${i}`, model: 'm', feeds: { x: { tensor: int32(i) } } });
  }
  const spec: JobSpec = { models: { m: model }, tasks, ...(o.policy ? { policy: o.policy } : {}) };
  const book = createReputationBook([], o.reputation);
  const engine = createJobEngine({
    jobId: 'sim',
    spec,
    now: () => now,
    random: engineRandom,
    reputation: book,
    recordEvents: false,
  });

  const nSab = Math.round(o.f * nDonors);
  const donors: SimDonor[] = [];
  let throughput = 0; // tasks per ms with every donor online
  for (let i = 0; i < nDonors; i++) {
    const speed = 0.5 + random() * 1.5; // task time multiplier
    const conc = 1 + Math.floor(random() * 2);
    throughput += conc / (taskMs * speed);
    donors.push({
      id: `d${i}`,
      index: i,
      saboteur: false,
      speed,
      latency: 10 + random() * 140,
      caps: {
        runtime: 'browser',
        backends: ['wasm'],
        cores: conc,
        memoryMB: 1024,
        maxConcurrency: conc,
      },
      online: true,
      epoch: 0,
      running: 0,
      queue: [],
      cancelled: new Set(),
    });
  }
  // Saboteurs are spread at random among the donors.
  const order = donors.map((d) => d.index).sort(() => random() - 0.5);
  for (const i of order.slice(0, nSab)) (donors[i] as { saboteur: boolean }).saboteur = true;
  const byId = new Map(donors.map((d) => [d.id, d]));

  const answer = (d: SimDonor, feeds: TensorMap): TensorMap => {
    const right = truth(readInt(feeds.x));
    if (!d.saboteur || random() >= o.s) return { y: int32(right) };
    return { y: int32(o.colluding ? right ^ 0x5a5a5a5a : right + 1 + d.index) };
  };

  const apply = (actions: EngineAction[]) => {
    for (const a of actions) {
      const d = byId.get(a.donor);
      if (!d) continue;
      const epoch = d.epoch;
      if (a.type === 'cancel') {
        queue.push(now + d.latency, () => d.epoch === epoch && d.cancelled.add(a.leaseId));
        continue;
      }
      queue.push(now + d.latency, () => {
        if (d.epoch !== epoch) return;
        queue.push(now + d.latency, () => apply(engine.acked(a.leaseId)));
        d.queue.push(a);
        startWork(d);
      });
    }
  };

  const startWork = (d: SimDonor) => {
    while (d.running < d.caps.maxConcurrency && d.queue.length > 0) {
      const a = d.queue.shift()!;
      if (d.cancelled.delete(a.leaseId)) continue;
      d.running++;
      const epoch = d.epoch;
      const ms = exp(random, taskMs * d.speed * 0.2) + taskMs * d.speed * 0.8;
      queue.push(now + ms, () => {
        if (d.epoch !== epoch) return;
        d.running--;
        const outputs = answer(d, a.feeds);
        const dropped = d.cancelled.delete(a.leaseId);
        if (!dropped)
          queue.push(now + d.latency, () => apply(engine.reported(a.leaseId, outputs, ms)));
        startWork(d);
      });
    }
  };

  const leave = (d: SimDonor) => {
    d.online = false;
    d.epoch++;
    d.running = 0;
    d.queue.length = 0;
    d.cancelled.clear();
    apply(engine.donorGone(d.id));
    queue.push(now + exp(random, offlineMs), () => join(d));
  };
  const join = (d: SimDonor) => {
    d.online = true;
    apply(engine.donorAvailable({ id: d.id, capabilities: d.caps }));
    queue.push(now + exp(random, onlineMs), () => leave(d));
  };
  for (const d of donors) queue.push(random() * 1000, () => join(d));

  const warmupTasks = Math.ceil((o.warmup ?? 0.1) * o.tasks);
  let warm: { results: number; verified: number } | null = null;
  let lastReport = 0;
  const tick = () => {
    apply(engine.tick());
    const p = engine.progress();
    if (!warm && p.tasks.verified >= warmupTasks) {
      warm = { results: p.resultsReceived, verified: p.tasks.verified };
    }
    if (p.tasks.verified - lastReport >= o.tasks / 10) {
      lastReport = p.tasks.verified;
      o.onProgress?.(p.tasks.verified / o.tasks);
    }
    if (p.state === 'running') queue.push(now + TICK_MS, tick);
  };
  queue.push(TICK_MS, tick);

  for (let e = queue.pop(); e; e = queue.pop()) {
    now = e.at;
    e.run();
    if (engine.progress().state !== 'running' && now > 0) break;
  }

  const p = engine.progress();
  let wrong = 0;
  for (let i = 0; i < o.tasks; i++) {
    const out = engine.result(`t${i}`);
    if (out && readInt(out.y) !== truth(i)) wrong++;
  }
  const w = warm ?? { results: p.resultsReceived, verified: p.tasks.verified };
  const excluded = donors.filter((d) => book.isExcluded(d.id));
  engine.close();
  return {
    f: o.f,
    s: o.s,
    colluding: o.colluding,
    tasks: o.tasks,
    acceptedWrong: wrong,
    acceptedWrongRate: wrong / o.tasks,
    resultsPerTask: p.resultsReceived / o.tasks,
    resultsPerTaskAfterWarmup:
      o.tasks > w.verified ? (p.resultsReceived - w.results) / (o.tasks - w.verified) : 0,
    failedTasks: p.tasks.failed,
    makespanRatio: now / (o.tasks / throughput),
    spotChecks: p.spotChecks.issued,
    excludedSaboteurs: excluded.filter((d) => d.saboteur).length,
    excludedHonest: excluded.filter((d) => !d.saboteur).length,
    reopened: p.reopened,
  };
}

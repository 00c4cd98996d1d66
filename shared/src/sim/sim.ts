/**
 * A discrete-event simulation of one job on a volunteer grid: virtual clock,
 * seeded randomness, donors of different speeds with latency and churn, and
 * saboteurs following one adversary strategy (`adversary.ts`) with a shared
 * view (`cartel.ts`). Identities are free: an excluded saboteur comes back
 * under a fresh id (whitewashing). It drives the production `JobEngine` unchanged.
 */
import { leaseWindow } from '../grid/lease-window.ts';
import { createJobEngine } from '../job/engine.ts';
import { createReputationBook, type ReputationOptions } from '../job/reputation.ts';
import { type Policy, resolvePolicy } from '../job/spec.ts';
import type { DonorInfo, EngineAction, JobProgress } from '../job/types.ts';
import { type Random, seededRandom } from '../platform.ts';
import type { TensorMap } from '../tensor.ts';
import { answer, type StrategyName, strategy } from './adversary.ts';
import { createCartel } from './cartel.ts';
import { createEventQueue } from './event-queue.ts';
import { idealMakespan, type Spell } from './ideal.ts';
import { createLieLedger } from './lie-ledger.ts';
import { type Assign, createDonors, DEFAULT_LATENCY_MS, type SimDonor } from './sim-donors.ts';
import { createWorkload, inputOf, int32, ownLie, readInt, sharedLie, truth } from './workload.ts';

export interface SimOptions {
  readonly tasks: number;
  /** Default 50. */
  readonly donors?: number;
  /** Fraction of donors that are saboteurs. */
  readonly f: number;
  /** The saboteurs' strategy. Default 'naive'. */
  readonly adversary?: StrategyName;
  /** Lie rate of the strategies that draw. Default: the strategy's (naive, independent 1; check-aware 0.2). */
  readonly s?: number;
  /** One honest donor is an anchor: never leaves, concurrency 2, speed 1. Default false. */
  readonly anchor?: boolean;
  /** An excluded saboteur rejoins under a fresh id after an offline spell. Default true. */
  readonly whitewash?: boolean;
  readonly seed?: number;
  /** Mean compute time of a task on a speed-1 donor, ms. Default 1000. */
  readonly taskMs?: number;
  /** Range of a donor's one-way link latency, ms. Default 10–150. */
  readonly latencyMs?: readonly [number, number];
  /** Slowest ÷ fastest donor's task time, log-uniform (see `DonorsOptions`). Default: uniform 0.5–2. */
  readonly speedSpread?: number;
  /** Donors come and go (spells of `onlineMs` / `offlineMs`). Default true; false: each stays from its join to the end. */
  readonly churn?: boolean;
  /** How many leases a donor holds in flight (see `WindowMode`). Default 'lease'. */
  readonly window?: WindowMode;
  /** Mean online / offline spell of a donor, ms (churn). Defaults 30 min / 2 min. */
  readonly onlineMs?: number;
  readonly offlineMs?: number;
  /** Mean time an excluded saboteur stays away before it rejoins under a fresh id, ms. Default `offlineMs`. */
  readonly rejoinMs?: number;
  /** Share of tasks counted as warm-up. Default 0.1. */
  readonly warmup?: number;
  readonly policy?: Partial<Policy>;
  /** Trust and exclusion thresholds. Default: the book's defaults. */
  readonly reputation?: ReputationOptions;
  /** Called now and then with the share of tasks verified. */
  readonly onProgress?: (done: number) => void;
  /** Called as a donor starts or ends a task, or leaves (dropping what it ran). */
  readonly onTask?: (e: TaskEvent) => void;
}

/**
 * Leases a donor holds in flight. 'lease': a window sized by `leaseWindow`
 * from the round trip the submitter measured (2 × the one-way latency, by a
 * heartbeat once the donor joined) and an EWMA of the compute time per task
 * its results report, re-offered to the engine as `maxConcurrency` when it
 * changes. 'fixed': its slots (at most 4, the engine's default), one lease
 * per slot as before windows.
 */
export type WindowMode = 'lease' | 'fixed';

export interface TaskEvent {
  readonly type: 'start' | 'end' | 'leave';
  /** The donor's index (stable across identities). */
  readonly donor: number;
  readonly at: number;
  /** Tasks it runs now (after the event), and its slots. */
  readonly running: number;
  readonly slots: number;
  /** Leases waiting in its queue. */
  readonly queued: number;
}

export interface Audits {
  readonly issued: number;
  readonly passed: number;
  readonly failed: number;
}

export interface SimResult {
  readonly strategy: StrategyName;
  readonly taskMs: number;
  readonly latencyMs: readonly [number, number];
  /** Undefined: today's uniform 0.5–2 draw. */
  readonly speedSpread: number | undefined;
  readonly churn: boolean;
  readonly window: WindowMode;
  readonly s: number;
  readonly f: number;
  readonly donors: number;
  readonly anchor: boolean;
  readonly tasks: number;
  readonly acceptedWrong: number;
  readonly acceptedWrongRate: number;
  readonly resultsPerTask: number;
  readonly resultsPerTaskAfterWarmup: number;
  readonly failedTasks: number;
  /** Virtual makespan / (tasks / throughput of all donors, always online): one run per task is ideal. */
  readonly makespanRatio: number;
  /**
   * Virtual makespan / the ideal for the work done (`ideal.ts`): the results
   * received, on donors that never pause, from when each was online (one
   * link latency after it joined) to one latency before the end. Replicas
   * and audits are the policy's work, not overhead; what is left is time
   * slots sat idle: latency not hidden, leases queued behind slow donors,
   * the tail, work lost to churn.
   */
  readonly workRatio: number;
  /**
   * Placement efficiency: virtual makespan / (compute time of every result
   * received, in speed-1 ms, ÷ the donors' summed speed in speed-1 slots).
   * With no saboteurs and no churn only placement and the tail count; 1 is
   * every slot busy from the start to the end.
   */
  readonly placementRatio: number;
  /** Virtual makespan, ms. */
  readonly makespanMs: number;
  /** Mean window (leases offered) of the donors online at the end. */
  readonly meanWindow: number;
  /** Times a donor was offered to the engine again with a new window. */
  readonly windowOffers: number;
  readonly audits: Audits;
  /** Honest donors excluded at the end (they keep their id). */
  readonly excludedHonest: number;
  /** Saboteur identities excluded at the end, whitewashed ones included. */
  readonly excludedSaboteurs: number;
  /** Saboteur identities used, the first ones included. */
  readonly saboteurIdentities: number;
  readonly liesTold: number;
  readonly liesCaught: number;
  /** Lies in the accepted output at the end. */
  readonly liesKept: number;
  /** Lies on tasks no one but their liars ever got a lease of: beyond any check. */
  readonly liesFloor: number;
  readonly reopened: number;
  /** Tasks neither verified nor failed when the engine stalled (see `STALL_MS`); 0 when the job ended. */
  readonly openTasks: number;
}

const TICK_MS = 2_000;
/** Most leases a donor holds (the engine's cap with windows on, and `leaseWindow`'s). */
const MAX_LEASES = 256;
/** Weight of the newest compute time in a donor's EWMA. */
const EWMA = 0.2;
/**
 * No result for this long while the job runs: the engine has stalled (a task
 * it will never place or weigh again). The run stops and reports what is open.
 */
const STALL_MS = 10 * 60_000;

/** The engine's audit counters. */
const auditsOf = (p: JobProgress): Audits => p.audits;

function exp(random: Random, mean: number): number {
  return -Math.log(1 - random()) * mean;
}

export function runSimulation(o: SimOptions): SimResult {
  const seed = o.seed ?? 1;
  const random = seededRandom(seed);
  const engineRandom = seededRandom(seed ^ 0x5bd1e995);
  // The adversary's own stream: its draws do not shift the grid's.
  const adversaryRandom = seededRandom(seed ^ 0x2545f491);
  const name = o.adversary ?? 'naive';
  const plan = strategy(name);
  const s = o.s ?? plan.s ?? 1;
  const whitewash = o.whitewash ?? true;
  const taskMs = o.taskMs ?? 1000;
  const latencyMs = o.latencyMs ?? DEFAULT_LATENCY_MS;
  const churn = o.churn ?? true;
  const mode = o.window ?? 'lease';
  const onlineMs = o.onlineMs ?? 30 * 60_000;
  const offlineMs = o.offlineMs ?? 2 * 60_000;
  const rejoinMs = o.rejoinMs ?? offlineMs;
  const nDonors = o.donors ?? 50;
  const policy = resolvePolicy(o.policy);
  let now = 0;
  const queue = createEventQueue();

  const spec = createWorkload(o.tasks, o.policy);
  const book = createReputationBook([], o.reputation);
  const engine = createJobEngine({
    jobId: 'sim',
    spec,
    now: () => now,
    random: engineRandom,
    reputation: book,
    recordEvents: false,
    // With windows on, the window is the bound; else the engine's default (4).
    ...(mode === 'lease' ? { maxInFlightPerDonor: MAX_LEASES } : {}),
  });

  const { donors, throughput } = createDonors(random, {
    donors: nDonors,
    saboteurs: Math.round(o.f * nDonors),
    anchor: o.anchor ?? false,
    taskMs,
    latencyMs,
    ...(o.speedSpread !== undefined ? { speedSpread: o.speedSpread } : {}),
  });
  /** The donors' summed speed, speed-1 slots; and the compute received, speed-1 ms. */
  const summedSpeed = donors.reduce((n, d) => n + d.slots / d.speed, 0);
  let workMs = 0;
  const byId = new Map(donors.map((d) => [d.id, d]));
  const cartel = createCartel();
  const ledger = createLieLedger();

  const respond = (d: SimDonor, a: Assign): TensorMap => {
    const x = inputOf(a.feeds);
    if (!d.saboteur) return { y: int32(truth(x)) };
    const lie = answer(name, {
      trusted: book.isTrusted(d.id),
      holders: cartel.holders(x),
      replicas: policy.replicas,
      answered: cartel.answered(x),
      lied: cartel.lied(x),
      liesTold: cartel.liesOf(d.id),
      verified: verifiedShare,
      s,
      random: adversaryRandom,
    });
    cartel.record(d.id, x, lie);
    if (!lie) return { y: int32(truth(x)) };
    // Unless the cartel shares one, each identity has its own wrong answer.
    const wrong = plan.colluding
      ? sharedLie(x)
      : ownLie(x, d.index + nDonors * (d.identities.length - 1));
    ledger.told(a.taskId, d.id, wrong);
    return { y: int32(wrong) };
  };

  const apply = (actions: EngineAction[]) => {
    for (const a of actions) {
      if (a.type === 'load') continue; // the simulator takes no deltas: nothing retires
      const d = byId.get(a.donor);
      if (!d) continue;
      const epoch = d.epoch;
      if (a.type === 'cancel') {
        queue.push(now + d.latency, () => {
          if (d.epoch !== epoch) return;
          d.cancelled.add(a.leaseId);
          cartel.release(a.leaseId);
        });
        continue;
      }
      ledger.leased(a.taskId, a.donor);
      queue.push(now + d.latency, () => {
        if (d.epoch !== epoch) return;
        queue.push(now + d.latency, () => apply(engine.acked(a.leaseId)));
        d.queue.push(a);
        if (d.saboteur) cartel.hold(a.leaseId, d.id, inputOf(a.feeds));
        startWork(d);
      });
    }
  };

  const trace = (d: SimDonor, type: TaskEvent['type']) =>
    o.onTask?.({
      type,
      donor: d.index,
      at: now,
      running: d.running,
      slots: d.slots,
      queued: d.queue.length,
    });
  /** Like the donor agent: at most `slots` tasks at once, the other leases queued in order. */
  const startWork = (d: SimDonor) => {
    while (d.running < d.slots && d.queue.length > 0) {
      const a = d.queue.shift()!;
      if (d.cancelled.delete(a.leaseId)) continue;
      d.running++;
      trace(d, 'start');
      const epoch = d.epoch;
      const ms = exp(random, taskMs * d.speed * 0.2) + taskMs * d.speed * 0.8;
      queue.push(now + ms, () => {
        if (d.epoch !== epoch) return;
        d.running--;
        trace(d, 'end');
        if (!d.cancelled.delete(a.leaseId)) {
          const outputs = respond(d, a);
          queue.push(now + d.latency, () => {
            workMs += ms / d.speed;
            apply(engine.reported(a.leaseId, outputs, ms));
            if (d.epoch !== epoch) return;
            d.taskMs = d.taskMs === undefined ? ms : d.taskMs + EWMA * (ms - d.taskMs);
            resize(d);
          });
        }
        cartel.release(a.leaseId);
        startWork(d);
      });
    }
  };

  const info = (d: SimDonor): DonorInfo & { anchor?: boolean } => ({
    id: d.id,
    capabilities: { ...d.caps, maxConcurrency: d.window },
    runs: d.slots,
    ...(d.anchor ? { anchor: true } : {}),
  });
  let windowOffers = 0;
  const windowOf = (d: SimDonor): number =>
    mode === 'fixed'
      ? d.slots
      : leaseWindow({
          slots: d.slots,
          rttMs: d.rttMs,
          taskMs: d.taskMs,
          maxLeases: MAX_LEASES,
          deadlineMs: policy.taskDeadlineMs,
        });
  /** Offers the donor its new window, when it moved by more than jitter (an eighth, at least 1). */
  const resize = (d: SimDonor) => {
    const next = windowOf(d);
    if (!d.online || Math.abs(next - d.window) < Math.max(1, Math.ceil(d.window / 8))) return;
    d.window = next;
    windowOffers++;
    apply(engine.donorAvailable(info(d)));
  };
  /** Online spells, for the ideal: closed ones, and the open one's start per donor. */
  const spells: Spell[] = [];
  const since = new Map<SimDonor, number>();
  const spell = (d: SimDonor, to: number): Spell => ({
    from: since.get(d) ?? to,
    to,
    rate: d.slots / (taskMs * d.speed),
    latency: d.latency,
  });
  const leave = (d: SimDonor, awayMs = offlineMs) => {
    spells.push(spell(d, now));
    since.delete(d);
    d.online = false;
    d.epoch++;
    d.running = 0;
    d.queue.length = 0;
    d.cancelled.clear();
    trace(d, 'leave');
    // A new link, a new identity maybe: measured afresh.
    d.rttMs = undefined;
    d.taskMs = undefined;
    cartel.drop(d.id);
    apply(engine.donorGone(d.id));
    queue.push(now + exp(random, awayMs), () => join(d));
  };
  const join = (d: SimDonor) => {
    if (d.saboteur && whitewash && book.isExcluded(d.id)) {
      // A fresh identity with a blank record: same machine, same strategy.
      byId.delete(d.id);
      d.id = `d${d.index}.${d.identities.length}`;
      d.identities.push(d.id);
      byId.set(d.id, d);
    }
    d.online = true;
    since.set(d, now);
    const epoch = d.epoch;
    d.window = windowOf(d);
    apply(engine.donorAvailable(info(d)));
    if (mode === 'lease') {
      // The first heartbeat's pong: the round trip is measured.
      queue.push(now + 2 * d.latency, () => {
        if (d.epoch !== epoch) return;
        d.rttMs = 2 * d.latency;
        resize(d);
      });
    }
    if (d.anchor || !churn) return;
    queue.push(now + exp(random, onlineMs), () => d.epoch === epoch && leave(d));
  };
  // A saboteur notices its exclusion (no more work) one link latency later and leaves.
  const unsubscribe = book.onExcluded((peer) => {
    const d = byId.get(peer);
    if (!whitewash || !d?.saboteur || !d.online) return;
    queue.push(now + d.latency, () => d.online && d.id === peer && leave(d, rejoinMs));
  });
  for (const d of donors) queue.push(random() * 1000, () => join(d));

  const warmupTasks = Math.ceil((o.warmup ?? 0.1) * o.tasks);
  let warm: { results: number; verified: number } | null = null;
  let lastReport = 0;
  let lastResult = { at: 0, results: 0 };
  let stalled = false;
  /** Share of tasks verified, as of the last tick (what a colluder could estimate from the grid's pace). */
  let verifiedShare = 0;
  // The engine ticks every TICK_MS; progress (warm-up, stall, what colluders see) is sampled
  // at least every 10 mean task times, so a job of short tasks is not over before its first look.
  const sampleMs = TICK_MS / 2 ** Math.max(0, Math.ceil(Math.log2(TICK_MS / (10 * taskMs))));
  let nextTick = TICK_MS;
  const sample = () => {
    if (now >= nextTick) {
      apply(engine.tick());
      nextTick += TICK_MS;
    }
    const p = engine.progress();
    verifiedShare = p.tasks.verified / o.tasks;
    if (p.resultsReceived !== lastResult.results)
      lastResult = { at: now, results: p.resultsReceived };
    stalled = now - lastResult.at > STALL_MS;
    if (!warm && p.tasks.verified >= warmupTasks) {
      warm = { results: p.resultsReceived, verified: p.tasks.verified };
    }
    if (p.tasks.verified - lastReport >= o.tasks / 10) {
      lastReport = p.tasks.verified;
      o.onProgress?.(p.tasks.verified / o.tasks);
    }
    if (p.state === 'running' && !stalled) queue.push(now + sampleMs, sample);
  };
  queue.push(sampleMs, sample);

  for (let e = queue.pop(); e; e = queue.pop()) {
    now = e.at;
    e.run();
    if (stalled || (engine.state() !== 'running' && now > 0)) break;
  }

  const p = engine.progress();
  const accepted = (taskId: string) => {
    const out = engine.result(taskId);
    return out ? readInt(out.y) : undefined;
  };
  let wrong = 0;
  for (let i = 0; i < o.tasks; i++) {
    const out = accepted(`t${i}`);
    if (out !== undefined && out !== truth(i)) wrong++;
  }
  const lies = ledger.summary(accepted);
  const w = warm ?? { results: p.resultsReceived, verified: p.tasks.verified };
  const sabIds = donors.filter((d) => d.saboteur).flatMap((d) => d.identities);
  unsubscribe();
  engine.close();
  const online = donors.filter((d) => d.online);
  const makespan = stalled ? lastResult.at : now;
  for (const d of since.keys()) spells.push(spell(d, Number.POSITIVE_INFINITY));
  const ideal = idealMakespan(spells, p.resultsReceived);
  return {
    strategy: name,
    taskMs,
    latencyMs: [latencyMs[0], latencyMs[1]],
    speedSpread: o.speedSpread,
    churn,
    window: mode,
    s,
    f: o.f,
    donors: nDonors,
    anchor: o.anchor ?? false,
    tasks: o.tasks,
    acceptedWrong: wrong,
    acceptedWrongRate: wrong / o.tasks,
    resultsPerTask: p.resultsReceived / o.tasks,
    resultsPerTaskAfterWarmup:
      o.tasks > w.verified ? (p.resultsReceived - w.results) / (o.tasks - w.verified) : 0,
    failedTasks: p.tasks.failed,
    // A stalled run ended at its last result, not after the wait that showed the stall.
    makespanRatio: makespan / (o.tasks / throughput),
    workRatio: makespan / ideal,
    placementRatio: workMs > 0 ? makespan / (workMs / summedSpeed) : 0,
    makespanMs: makespan,
    meanWindow: online.length > 0 ? online.reduce((n, d) => n + d.window, 0) / online.length : 0,
    windowOffers,
    audits: { ...auditsOf(p) },
    excludedHonest: donors.filter((d) => !d.saboteur && book.isExcluded(d.id)).length,
    excludedSaboteurs: sabIds.filter((id) => book.isExcluded(id)).length,
    saboteurIdentities: sabIds.length,
    liesTold: lies.told,
    liesCaught: lies.caught,
    liesKept: lies.kept,
    liesFloor: lies.floor,
    reopened: p.reopened,
    openTasks: stalled ? o.tasks - p.tasks.verified - p.tasks.failed : 0,
  };
}

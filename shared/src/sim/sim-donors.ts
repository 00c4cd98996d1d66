/**
 * The simulated donors: speeds, latencies and concurrency drawn from the
 * simulator's seeded stream, saboteurs spread at random among them, and
 * optionally one anchor (an honest donor the submitter runs itself).
 */
import type { Capabilities } from '../contracts.ts';
import type { EngineAction } from '../job/types.ts';
import type { Random } from '../platform.ts';

export type Assign = Extract<EngineAction, { type: 'assign' }>;

export interface SimDonor {
  /** Current identity; a whitewashing saboteur takes a fresh one. */
  id: string;
  readonly index: number;
  readonly saboteur: boolean;
  /** Never leaves; announced with `anchor: true`. */
  readonly anchor: boolean;
  /** Task time multiplier. */
  readonly speed: number;
  /** One-way link latency, ms. */
  readonly latency: number;
  /** Tasks it runs at once; further leases wait in its queue. */
  readonly slots: number;
  /** Its real capabilities (`maxConcurrency` = `slots`); the submitter may offer it a larger window. */
  readonly caps: Capabilities;
  /** Identities this donor has had, the current one last. */
  readonly identities: string[];
  online: boolean;
  /** Incarnation: bumped on each departure so stale events are dropped. */
  epoch: number;
  running: number;
  readonly queue: Assign[];
  readonly cancelled: Set<string>;
  /** What the submitter measured: heartbeat round trip, and an EWMA of its compute time per task (ms). */
  rttMs: number | undefined;
  taskMs: number | undefined;
  /** Leases the submitter last offered it (`maxConcurrency` in `donorAvailable`). */
  window: number;
}

export interface DonorsOptions {
  readonly donors: number;
  readonly saboteurs: number;
  readonly anchor: boolean;
  /** Mean compute time of a task on a speed-1 donor, ms. */
  readonly taskMs: number;
  /** Range of a donor's one-way link latency, ms. Default [10, 150]. */
  readonly latencyMs?: readonly [number, number];
  /**
   * Ratio of the slowest donor's task time to the fastest's, drawn
   * log-uniform around a geometric mean of 1 (`--speed-spread`). Default:
   * today's draw, uniform in 0.5–2 (4×).
   */
  readonly speedSpread?: number;
  /**
   * How much faster than they are saboteurs claim to be in their advertised
   * speed (a claim steers placement only until they are measured). Default 10.
   */
  readonly saboteurClaim?: number;
}

/** A donor's one-way link latency is drawn from this range, ms, unless told otherwise. */
export const DEFAULT_LATENCY_MS: readonly [number, number] = [10, 150];

/** `tasksPerSecond`: the speed it advertises (per slot, on the job's own model here). */
const caps = (conc: number, tasksPerSecond: number): Capabilities => ({
  runtime: 'browser',
  backends: ['wasm'],
  cores: conc,
  memoryMB: 1024,
  maxConcurrency: conc,
  speed: { wasm: tasksPerSecond },
});

/** The donors, and their throughput (tasks per ms) with every donor online. */
export function createDonors(
  random: Random,
  o: DonorsOptions,
): { donors: SimDonor[]; throughput: number } {
  const [lo, hi] = o.latencyMs ?? DEFAULT_LATENCY_MS;
  const drafts = [];
  for (let i = 0; i < o.donors; i++) {
    // One draw either way, so the rest of the stream is the same for every spread.
    const u = random();
    const speed = o.speedSpread === undefined ? 0.5 + u * 1.5 : o.speedSpread ** (u - 0.5);
    const conc = 1 + Math.floor(random() * 2);
    drafts.push({ speed, conc, latency: lo + random() * (hi - lo) });
  }
  const order = drafts.map((_, i) => i).sort(() => random() - 0.5);
  const saboteurs = new Set(order.slice(0, o.saboteurs));
  const anchor = o.anchor ? order[o.saboteurs] : undefined;
  let throughput = 0;
  const donors = drafts.map((x, i): SimDonor => {
    const isAnchor = i === anchor;
    const speed = isAnchor ? 1 : x.speed;
    const conc = isAnchor ? 2 : x.conc;
    throughput += conc / (o.taskMs * speed);
    const claim = saboteurs.has(i) ? (o.saboteurClaim ?? 10) : 1;
    return {
      id: `d${i}`,
      index: i,
      saboteur: saboteurs.has(i),
      anchor: isAnchor,
      speed,
      latency: x.latency,
      slots: conc,
      caps: caps(conc, (claim * 1000) / (o.taskMs * speed)),
      identities: [`d${i}`],
      online: false,
      epoch: 0,
      running: 0,
      queue: [],
      cancelled: new Set(),
      rttMs: undefined,
      taskMs: undefined,
      window: conc,
    };
  });
  return { donors, throughput };
}

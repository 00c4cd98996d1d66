/**
 * A CPU share enforced by pacing: each slot of a donor, after a run that
 * kept it busy for b ms, rests b·(1 − share)/share ms before it takes the
 * next lease, so over time each slot is busy `share` of the wall time. This
 * is BOINC's "use at most N % of CPU time", applied per slot; the number of
 * slots (workers, `--concurrency`) is the other knob, so a machine's use is
 * slots/cores × share. Pure: the donor agent reads the clock and sets the
 * timers.
 */
import { PeerGridError } from '../errors.ts';

/** Smallest CPU share accepted: below it a slot would rest 99× its run. */
export const MIN_CPU_SHARE = 0.01;

/** Window the measured share is taken over, ms. Default of {@link BusyMeterOptions.windowMs}. */
export const BUSY_WINDOW_MS = 30_000;

/** Parses a share given as a fraction (0.01..1); null when out of range or not a number. */
export function parseCpuShare(raw: unknown): number | null {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : Number.NaN;
  return Number.isFinite(n) && n >= MIN_CPU_SHARE && n <= 1 ? n : null;
}

/** How long a slot rests after `busyMs` of work at `share` (1 = never). */
export function restAfter(busyMs: number, share: number): number {
  if (share >= 1 || busyMs <= 0) return 0;
  return (busyMs * (1 - share)) / Math.max(MIN_CPU_SHARE, share);
}

export interface BusyMeterOptions {
  /** Window the share is measured over, ms. Default 30 000. */
  readonly windowMs?: number;
}

/** Busy time of a donor's slots over a sliding window, for showing the share live. */
export interface BusyMeter {
  /** A run kept one slot busy from `start` to `end` (ms, same clock as `now`). */
  ran(start: number, end: number): void;
  /** Busy time ÷ (wall time × slots) over the last window up to `now`; `running` are runs still going since their start. */
  share(now: number, slots: number, running?: Iterable<number>): number;
  /** Busy ms of all finished runs so far. */
  readonly busyMs: number;
}

export function createBusyMeter(opts: BusyMeterOptions = {}): BusyMeter {
  const windowMs = opts.windowMs ?? BUSY_WINDOW_MS;
  const runs: [number, number][] = [];
  let busyMs = 0;
  let first: number | undefined;
  return {
    ran(start, end) {
      if (end < start) return;
      first ??= start;
      runs.push([start, end]);
      busyMs += end - start;
    },
    share(now, slots, running = []) {
      const from = now - windowMs;
      while (runs.length > 0 && runs[0]![1] <= from) runs.shift();
      let busy = 0;
      let earliest = first ?? now;
      for (const [s, e] of runs) busy += Math.min(e, now) - Math.max(s, from);
      for (const s of running) {
        busy += now - Math.max(s, from);
        earliest = Math.min(earliest, s);
      }
      const wall = now - Math.max(from, earliest);
      return wall > 0 && slots > 0 ? Math.min(1, busy / (wall * slots)) : 0;
    },
    get busyMs() {
      return busyMs;
    },
  };
}

export interface PacerOptions {
  /** Slots of the executor. */
  readonly slots: number;
  /** Runs the executor takes early beyond its slots (only used at a share of 1), read each time. */
  readonly prefetch: number | (() => number);
  readonly share?: number;
  readonly now?: () => number;
  readonly timers?: { setTimeout(fn: () => void, ms: number): unknown };
  /** A slot's rest is over: it may take the next run. */
  readonly rested: () => void;
}

/** The donor agent's pacing: which slots may start a run, and the measured share. */
export interface Pacer {
  /** Runs the executor may hold now (running, and early ones): its slots less the resting ones. */
  room(): number;
  /** A run of `run` started on a slot. */
  started(run: object): void;
  /** It ended: the slot rests for its share. */
  ended(run: object): void;
  setShare(share: number): void;
  readonly share: number;
  /** Busy ÷ (wall × slots) over the last window. */
  measured(): number;
  readonly busyMs: number;
}

/** Throws `bad-option` for a share out of range, or below 1 without `now` and `timers`. */
export function createPacer(o: PacerOptions): Pacer {
  const meter = createBusyMeter();
  const starts = new Map<object, number>();
  let share = 1;
  let resting = 0;
  const set = (s: number) => {
    const v = parseCpuShare(s);
    if (v === null) throw new PeerGridError('bad-option', `CPU share ${s} is not in 0.01..1`);
    if (v < 1 && (!o.now || !o.timers))
      throw new PeerGridError('bad-option', 'a CPU share below 1 needs now and timers');
    share = v;
  };
  if (o.share !== undefined) set(o.share);
  return {
    room: () =>
      o.slots +
      (share < 1 ? 0 : typeof o.prefetch === 'number' ? o.prefetch : o.prefetch()) -
      resting,
    started(run) {
      if (o.now) starts.set(run, o.now());
    },
    ended(run) {
      const start = starts.get(run);
      starts.delete(run);
      if (start === undefined || !o.now) return;
      const end = o.now();
      meter.ran(start, end);
      const rest = restAfter(end - start, share);
      if (rest <= 0 || !o.timers) return;
      resting++;
      o.timers.setTimeout(() => {
        resting--;
        o.rested();
      }, rest);
    },
    setShare: set,
    get share() {
      return share;
    },
    measured: () => (o.now ? meter.share(o.now(), o.slots, starts.values()) : 0),
    get busyMs() {
      return meter.busyMs;
    },
  };
}

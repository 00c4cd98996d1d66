/**
 * A node worker's pause rules: `--schedule` (donate only inside these local
 * time windows) and `--pause-above-load X` (pause while other programs keep
 * the 1-minute load average above X; resume once it is under 3/4 of X, so a
 * load near X does not flap). Each `check` decides and tells the donor agent,
 * which hands queued leases back as `paused` (and running ones with
 * `--on-pause hand-back`). Clock, load and CPU readings are passed in.
 */
import type { DonorAgent } from '@peergrid/shared';
import { createOthersLoad } from './others-load.ts';
import { formatSchedule, inSchedule, minuteOfDay, type Schedule } from './schedule.ts';

/** How often run-worker checks the rules, ms (the kernel refreshes its load average every 5 s). */
export const PAUSE_CHECK_MS = 5_000;
/** A load pause ends once others' load is under this share of the limit. */
export const RESUME_BELOW = 0.75;

export interface PauseRulesOptions {
  readonly agent: Pick<DonorAgent, 'pause' | 'resume'>;
  readonly schedule?: Schedule;
  readonly pauseAboveLoad?: number;
  /** Hand running leases back at once instead of letting them finish. Default false. */
  readonly handBackRunning?: boolean;
  /** The 1-minute load average (os.loadavg()[0]). */
  readonly loadAvg1: () => number;
  /** CPU ms of this worker's process tree so far; null when unknown (then all load counts as others'). */
  readonly ownCpuMs: () => number | null;
  readonly now: () => number;
  readonly date: () => Date;
  /** Hears each change: the reason paused, or null when resumed. */
  readonly onChange?: (reason: string | null) => void;
}

export interface PauseRules {
  /** Reads the clock and the load, pauses or resumes; returns the reason paused, or null. */
  check(): string | null;
  /** Load from other programs, last estimate. */
  othersLoad(): number;
  readonly reason: string | null;
}

export function createPauseRules(o: PauseRulesOptions): PauseRules {
  const others = createOthersLoad();
  let reason: string | null = null;
  let loadPaused = false;
  return {
    check() {
      const load = o.loadAvg1();
      const own = o.ownCpuMs();
      const estimate = own === null ? load : others.sample(o.now(), load, own);
      let next: string | null = null;
      if (o.schedule && !inSchedule(o.schedule, minuteOfDay(o.date())))
        next = `outside the schedule ${formatSchedule(o.schedule)}`;
      const limit = o.pauseAboveLoad;
      if (limit !== undefined) {
        loadPaused = loadPaused ? estimate >= limit * RESUME_BELOW : estimate > limit;
        if (loadPaused && next === null)
          next = `load from other programs ${estimate.toFixed(2)} is above ${limit}`;
      }
      if (next !== null && reason === null) {
        o.agent.pause({ reason: next, handBackRunning: o.handBackRunning ?? false });
        o.onChange?.(next);
      } else if (next === null && reason !== null) {
        o.agent.resume();
        o.onChange?.(null);
      }
      reason = next;
      return reason;
    },
    othersLoad: () => others.value,
    get reason() {
      return reason;
    },
  };
}

/**
 * The load others put on this machine: the kernel's 1-minute load average
 * less this worker's own share of it. The kernel folds the count of runnable
 * threads every 5 s into an exponential average with a 1-minute time
 * constant; we fold the cores this worker's process tree kept busy (its CPU
 * time over the sample's wall time, runners included) the same way, and
 * subtract. So a worker that fills every core does not pause itself.
 */

/** Time constant of the 1-minute load average, ms. */
const LOAD_TAU_MS = 60_000;

export interface OthersLoad {
  /** A sample: the load average now, and this tree's CPU ms so far (cumulative) at `nowMs`. */
  sample(nowMs: number, loadAvg1: number, ownCpuMs: number): number;
  /** The last estimate (0 before the first two samples). */
  readonly value: number;
  /** This worker's own part, in busy cores (same 1-minute average). */
  readonly own: number;
}

export function createOthersLoad(): OthersLoad {
  let last: { t: number; cpu: number } | undefined;
  let own = 0;
  let value = 0;
  return {
    sample(t, loadAvg1, cpu) {
      if (last && t > last.t) {
        const cores = Math.max(0, (cpu - last.cpu) / (t - last.t));
        const keep = Math.exp(-(t - last.t) / LOAD_TAU_MS);
        own = own * keep + cores * (1 - keep);
        value = Math.max(0, loadAvg1 - own);
      }
      last = { t, cpu };
      return value;
    },
    get value() {
      return value;
    },
    get own() {
      return own;
    },
  };
}

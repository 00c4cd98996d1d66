import type { Timers } from '@peergrid/shared';

/** A function run at most once per `delayMs`, however often it is asked for. */
export interface Coalesced {
  /** Runs the function `delayMs` from now, unless a run is already due. */
  schedule(): void;
  /** Drops a due run. */
  cancel(): void;
}

/**
 * Coalesces bursts of requests (a welcome listing 20 peers is 21 events) into
 * one run. `delayMs` 0 runs it in the next task, after the whole burst.
 */
export function coalesce(fn: () => void, delayMs: number, timers: Timers): Coalesced {
  let due: unknown = null;
  return {
    schedule() {
      if (due !== null) return;
      due = timers.setTimeout(() => {
        due = null;
        fn();
      }, delayMs);
    },
    cancel() {
      if (due === null) return;
      timers.clearTimeout(due);
      due = null;
    },
  };
}

/**
 * Runs `fn` once: when `trigger()` is first called, or after `fallbackMs`
 * anyway (work to do after the grid join, also when the join never comes).
 */
export function once(fn: () => void, fallbackMs: number, timers: Timers): { trigger(): void } {
  let done = false;
  const run = () => {
    if (done) return;
    done = true;
    timers.clearTimeout(fallback);
    fn();
  };
  const fallback = timers.setTimeout(run, fallbackMs);
  return { trigger: run };
}

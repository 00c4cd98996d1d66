/**
 * The page's timers, kept on time while the tab is hidden: a timeout asked
 * for while `document.hidden` runs in a dedicated worker (timer-worker.ts),
 * whose timers Chromium does not throttle; a visible tab uses its own. Links'
 * heartbeats (every second, dead after 8 s of silence) and a donor's pacing
 * thus go on in a background tab. A frozen tab (Chromium freezes hidden tabs
 * later, workers included) stops altogether; its submitters then see its
 * links die and re-issue its leases.
 *
 * The worker holds one timeout at a time, the earliest one due: a timeout
 * set later than it, or cleared, costs no message (a donor sets and clears a
 * deferred ack per lease, most never due). When it fires, the page runs what
 * is due and asks for the next.
 */
import type { Timers } from '@peergrid/shared';

interface Handle {
  readonly kind: 'native' | 'worker';
  readonly id: unknown;
}

/** The part of a Worker the timers use (tests pass in-memory ones). */
export interface TimerWorkerLike {
  postMessage(msg: { set: number; ms: number } | { clear: number }): void;
  onmessage: ((e: MessageEvent<number>) => void) | null;
}

export interface HiddenTimerOptions {
  /** Whether the tab is hidden now. Default `document.hidden`. */
  readonly hidden?: () => boolean;
  /** Starts the timer worker; null when workers are unavailable. Default timer-worker.ts. */
  readonly startWorker?: () => TimerWorkerLike | null;
  /** Clock, ms. Default performance.now. */
  readonly now?: () => number;
}

/** A timeout due within this of now counts as due (the two clocks round apart). */
const SLACK_MS = 1;

function startTimerWorker(): TimerWorkerLike | null {
  try {
    return new Worker(new URL('./timer-worker.ts', import.meta.url), {
      type: 'module',
      name: 'peergrid-timers',
    }) as unknown as TimerWorkerLike;
  } catch {
    return null; // no workers (a test page): the tab's own timers, throttled
  }
}

export function createHiddenTabTimers(
  o: HiddenTimerOptions = {},
): Pick<Timers, 'setTimeout' | 'clearTimeout'> {
  const hidden = o.hidden ?? (() => typeof document !== 'undefined' && document.hidden);
  const now = o.now ?? (() => performance.now());
  let worker: TimerWorkerLike | null = null;
  let tried = false;
  let next = 1;
  let nextAsk = 1;
  const waiting = new Map<number, { readonly fn: () => void; readonly at: number }>();
  /** The one timeout the worker holds: its id and when it is due. */
  let armed: { readonly ask: number; readonly at: number } | null = null;
  let firing = false;

  const start = (): TimerWorkerLike | null => {
    if (worker || tried) return worker;
    tried = true;
    worker = (o.startWorker ?? startTimerWorker)();
    if (worker) worker.onmessage = (e) => fire(e.data);
    return worker;
  };

  /** Asks the worker for the earliest timeout due, unless it holds one as early. */
  function arm(): void {
    if (!worker || firing) return;
    let at = Number.POSITIVE_INFINITY;
    for (const w of waiting.values()) if (w.at < at) at = w.at;
    if (at === Number.POSITIVE_INFINITY || (armed && armed.at <= at)) return;
    if (armed) worker.postMessage({ clear: armed.ask });
    armed = { ask: nextAsk++, at };
    worker.postMessage({ set: armed.ask, ms: Math.max(0, at - now()) });
  }

  function fire(ask: number): void {
    if (armed?.ask !== ask) return; // one replaced by an earlier ask: that one runs what is due
    armed = null;
    const t = now() + SLACK_MS;
    const due = [...waiting].filter(([, w]) => w.at <= t).sort((a, b) => a[1].at - b[1].at);
    for (const [id] of due) waiting.delete(id);
    firing = true;
    try {
      for (const [, w] of due) {
        try {
          w.fn();
        } catch (e) {
          queueMicrotask(() => {
            throw e; // reported as a timer's own error would be, without stopping the others
          });
        }
      }
    } finally {
      firing = false;
    }
    arm();
  }

  return {
    setTimeout(fn, ms) {
      const w = hidden() ? start() : null;
      if (!w) return { kind: 'native', id: setTimeout(fn, ms) } satisfies Handle;
      const id = next++;
      const at = now() + Math.max(0, ms);
      waiting.set(id, { fn, at });
      if (!armed || at < armed.at) arm();
      return { kind: 'worker', id } satisfies Handle;
    },
    clearTimeout(h) {
      const handle = h as Handle | undefined;
      if (!handle) return;
      if (handle.kind === 'native') clearTimeout(handle.id as ReturnType<typeof setTimeout>);
      // The worker's timeout, if it was this one, finds nothing due and asks for the next.
      else waiting.delete(handle.id as number);
    },
  };
}

/**
 * The page's timers, kept on time while the tab is hidden: a timeout asked
 * for while `document.hidden` runs in a dedicated worker (timer-worker.ts),
 * whose timers Chromium does not throttle; a visible tab uses its own. Links'
 * heartbeats (every second, dead after 8 s of silence) and a donor's pacing
 * thus go on in a background tab. A frozen tab (Chromium freezes hidden tabs
 * later, workers included) stops altogether; its submitters then see its
 * links die and re-issue its leases.
 */
import type { Timers } from '@peergrid/shared';

interface Handle {
  readonly kind: 'native' | 'worker';
  readonly id: unknown;
}

export function createHiddenTabTimers(): Pick<Timers, 'setTimeout' | 'clearTimeout'> {
  let worker: Worker | null = null;
  let next = 1;
  const waiting = new Map<number, () => void>();
  const start = (): Worker | null => {
    if (worker) return worker;
    try {
      worker = new Worker(new URL('./timer-worker.ts', import.meta.url), {
        type: 'module',
        name: 'peergrid-timers',
      });
      worker.onmessage = (e: MessageEvent<number>) => {
        const fn = waiting.get(e.data);
        waiting.delete(e.data);
        fn?.();
      };
    } catch {
      worker = null; // no workers (a test page): the tab's own timers, throttled
    }
    return worker;
  };
  return {
    setTimeout(fn, ms) {
      const w = typeof document !== 'undefined' && document.hidden ? start() : null;
      if (!w) return { kind: 'native', id: setTimeout(fn, ms) } satisfies Handle;
      const id = next++;
      waiting.set(id, fn);
      w.postMessage({ set: id, ms: Math.max(0, ms) });
      return { kind: 'worker', id } satisfies Handle;
    },
    clearTimeout(h) {
      const handle = h as Handle | undefined;
      if (!handle) return;
      if (handle.kind === 'native') clearTimeout(handle.id as ReturnType<typeof setTimeout>);
      else if (waiting.delete(handle.id as number)) worker?.postMessage({ clear: handle.id });
    },
  };
}

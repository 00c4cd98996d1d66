/**
 * The speed a worker advertises with its capabilities (`Capabilities.speed`):
 * tasks per second per slot on each backend, from the compute time of its
 * own recent tasks (an EWMA). A claim that submitters use only to rank a donor
 * they have not timed yet; each submitter's own timing of its results on its
 * model replaces it (shared/src/job/speed-book.ts).
 */
import type { Backend, Capabilities } from '@peergrid/shared';

/** Weight of the newest task in the running average. */
const ALPHA = 0.2;
/** Tasks on a backend before its speed is advertised. */
export const SPEED_MIN_TASKS = 3;
/** A new figure is advertised when it moved this much (relative) since the last one. */
const CHANGE = 0.25;

export interface SpeedMeter {
  /** One task run to a result. */
  ran(backend: Backend, computeMs: number): void;
  /** Tasks/s per slot by backend, once measured. */
  speed(): NonNullable<Capabilities['speed']>;
  /**
   * The speed to advertise when it is new or moved by a quarter since the
   * last one returned here; undefined otherwise.
   */
  takeChanged(): NonNullable<Capabilities['speed']> | undefined;
}

export function createSpeedMeter(): SpeedMeter {
  const avg = new Map<Backend, { ms: number; n: number }>();
  let told: Partial<Record<Backend, number>> = {};
  const speed = () => {
    const out: Partial<Record<Backend, number>> = {};
    for (const [b, a] of avg) {
      if (a.n >= SPEED_MIN_TASKS && a.ms > 0) out[b] = Math.round((1000 / a.ms) * 1000) / 1000;
    }
    return out;
  };
  return {
    ran(backend, computeMs) {
      if (!(computeMs >= 0) || !Number.isFinite(computeMs)) return;
      const ms = Math.max(computeMs, 0.01);
      const a = avg.get(backend);
      if (!a) avg.set(backend, { ms, n: 1 });
      else {
        a.ms += ALPHA * (ms - a.ms);
        a.n++;
      }
    },
    speed,
    takeChanged() {
      const now = speed();
      const moved = (Object.keys(now) as Backend[]).some((b) => {
        const was = told[b];
        return was === undefined || Math.abs(now[b]! - was) > CHANGE * was;
      });
      if (!moved) return undefined;
      told = now;
      return now;
    },
  };
}

/**
 * The speed book: how long each donor takes per task, per model, as the
 * submitter measured it. Two EWMAs per donor and model: the compute time its
 * results report, and the time between its results while it had work for
 * every run (times its runs), on the submitter's own clock. The slower of
 * the two is its time: a donor that under-reports its compute time still
 * returns results only as fast as it does, and one that idles between tasks
 * (a CPU share, a pause, other submitters' work) is as slow as it serves.
 * A donor's advertised speed (`Capabilities.speed`) is a claim: it ranks a
 * donor only until its first result on the model, and then the measured
 * time wins. Claims are in tasks per second on a self-test model, not the
 * job's, so they count only relative to what the book has measured: a
 * claimed speed is turned into a time by the claims and times of the donors
 * already measured on this model, and bounded by `claimLimit`.
 */
import type { PeerId } from '../contracts.ts';

export interface SpeedBookOptions {
  /** Weight of the newest time in a donor's EWMA. Default 0.2. */
  readonly ewma?: number;
  /**
   * How far a claim may set a donor apart from the model's typical time
   * before it is measured: at most this many times faster or slower. Default 100.
   */
  readonly claimLimit?: number;
  /** Time per task before anything is measured on a model, ms. Default 1000. */
  readonly defaultMs?: number;
}

export interface SpeedBook {
  /** The donor's advertised speed for the backend it runs here, tasks/s per slot (undefined: none). */
  advertise(donor: PeerId, tasksPerSecond: number | undefined): void;
  /**
   * A result came back: `computeMs` is what the donor reports for it on one
   * of its runs; `serviceMs`, when the donor had work for all its runs since
   * its previous result, the time since that result times its runs.
   */
  observe(donor: PeerId, model: string, computeMs: number, serviceMs?: number): void;
  /** Expected time per task of one of the donor's slots on `model`, ms (> 0). */
  taskMs(donor: PeerId, model: string): number;
  /** The book holds a measured time of the donor on `model` (not only a claim). */
  measured(donor: PeerId, model: string): boolean;
}

interface Times {
  compute: number;
  service: number | undefined;
}
const timeOf = (t: Times) => Math.max(t.compute, t.service ?? 0);

interface ModelTimes {
  readonly byDonor: Map<PeerId, Times>;
  /** EWMA of every time observed on the model: the typical donor. */
  typical: number;
  /** EWMA of time × claimed speed over measured donors that made a claim (ms·tasks/s). */
  scale: number | undefined;
}

export function createSpeedBook(o: SpeedBookOptions = {}): SpeedBook {
  const alpha = o.ewma ?? 0.2;
  const limit = Math.max(1, o.claimLimit ?? 100);
  const defaultMs = o.defaultMs ?? 1000;
  const claims = new Map<PeerId, number>();
  const models = new Map<string, ModelTimes>();
  const fold = (was: number | undefined, x: number) =>
    was === undefined ? x : was + alpha * (x - was);

  return {
    advertise(donor, tps) {
      if (tps !== undefined && Number.isFinite(tps) && tps > 0) claims.set(donor, tps);
      else claims.delete(donor);
    },
    observe(donor, model, computeMs, serviceMs) {
      if (!Number.isFinite(computeMs) || computeMs < 0) return;
      const ms = Math.max(0.01, computeMs);
      let m = models.get(model);
      if (!m) {
        m = { byDonor: new Map(), typical: ms, scale: undefined };
        models.set(model, m);
      }
      let t = m.byDonor.get(donor);
      if (!t) {
        t = { compute: ms, service: undefined };
        m.byDonor.set(donor, t);
      } else t.compute = fold(t.compute, ms);
      if (serviceMs !== undefined && Number.isFinite(serviceMs) && serviceMs >= 0)
        t.service = fold(t.service, serviceMs);
      const next = timeOf(t);
      m.typical = fold(m.typical, next);
      const claim = claims.get(donor);
      if (claim !== undefined) m.scale = fold(m.scale, next * claim);
    },
    taskMs(donor, model) {
      const m = models.get(model);
      const measured = m?.byDonor.get(donor);
      if (measured !== undefined) return timeOf(measured);
      const typical = m?.typical ?? defaultMs;
      const claim = claims.get(donor);
      if (claim === undefined || m?.scale === undefined) return typical;
      const est = m.scale / claim;
      return Math.min(typical * limit, Math.max(typical / limit, est));
    },
    measured: (donor, model) => models.get(model)?.byDonor.has(donor) ?? false,
  };
}

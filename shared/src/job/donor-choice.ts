/**
 * Donor choice for one lease: eligibility and rank as before speed (anchors,
 * credible donors, backend class), then, within the best rank with room, by
 * speed (`pickBySpeed` in speed-placement.ts): a draw weighted by measured
 * speed, with the near-end rule against the horizon. Counts the leases
 * issued per task planned, to size the work still to place.
 */
import type { PeerId } from '../contracts.ts';
import type { Random } from '../platform.ts';
import type { ReputationBook } from './reputation.ts';
import type { DonorRt, TaskRt } from './runtime.ts';
import type { Policy } from './spec.ts';
import type { SpeedBook } from './speed-book.ts';
import { finishMs, horizonMs, type PacedDonor, pickBySpeed } from './speed-placement.ts';

/** A lease waits near the end only for a donor this many times faster per task than any with room. */
const WAIT_FOR = 2;

/** Leases issued between two measures of the horizon (see `horizon`). */
const HORIZON_EVERY = 32;

export interface DonorChoice {
  /**
   * The donor for `t`'s next lease, null when none with room may take it,
   * 'wait' when a busy donor would finish it sooner than any with room
   * (near the job's end).
   */
  pick(t: TaskRt, requireAnchor: boolean): DonorRt | 'wait' | null;
  /** When a lease of `t` issued on `d` now should come back, ms. */
  expectedMs(t: TaskRt, d: DonorRt): number;
  /** A lease was issued. */
  issued(): void;
  /** A fresh task's plan was drawn. */
  planned(): void;
}

export function createDonorChoice(o: {
  readonly random: Random;
  readonly policy: Policy;
  readonly book: ReputationBook;
  readonly donors: ReadonlyMap<PeerId, DonorRt>;
  readonly speeds: SpeedBook;
  /** `d` may hold a lease of `t` (capacity aside). */
  readonly eligible: (t: TaskRt, d: DonorRt) => boolean;
  /** Leases still to place, given the leases a task takes on average. */
  readonly unplaced: (perTask: number) => number;
}): DonorChoice {
  const { donors, book } = o;
  type Paced = PacedDonor & { readonly donor: DonorRt };
  const paced = (d: DonorRt, model: string): Paced => ({
    donor: d,
    inFlight: d.inFlight,
    slots: d.slots,
    runs: d.runs,
    taskMs: o.speeds.taskMs(d.id, model),
  });
  let issued = 0;
  let planned = 0;
  /**
   * The horizon per model, with the leases issued when it was measured: it
   * moves slowly, so it is measured again only after `HORIZON_EVERY` more
   * leases, or when donors come or go (a walk over every donor per lease
   * would cost more than the rest of placement).
   */
  const horizons = new Map<string, { h: number; at: number; donors: number }>();
  const horizon = (model: string) => {
    const was = horizons.get(model);
    if (was && issued - was.at < HORIZON_EVERY && was.donors === donors.size) return was.h;
    const unplaced = o.unplaced(planned > 0 ? issued / planned : o.policy.replicas);
    const live: PacedDonor[] = [];
    for (const d of donors.values()) if (!book.isExcluded(d.id)) live.push(paced(d, model));
    const h = horizonMs(live, unplaced);
    horizons.set(model, { h, at: issued, donors: donors.size });
    return h;
  };

  /**
   * Eligible (not holding the task, not excluded, the backend class when
   * required), then by rank (with `credible`: anchors, credible donors, the
   * rest; otherwise anchors last, since their time is the submitter's own;
   * same backend class first), and within the best rank with room, by speed.
   */
  const pick = (t: TaskRt, requireAnchor: boolean): DonorRt | 'wait' | null => {
    const model = t.spec.model;
    const rankOf = (d: DonorRt) => {
      const sameClass = t.backend === undefined || d.backend === t.backend;
      const standing = t.credible ? (d.anchor ? 0 : d.credible ? 1 : 2) : d.anchor ? 1 : 0;
      return standing * 2 + (sameClass ? 0 : 1);
    };
    const qualifies = (d: DonorRt) => o.eligible(t, d) && (!requireAnchor || d.anchor);
    let best: Paced[] = [];
    let bestRank = Number.POSITIVE_INFINITY;
    for (const d of donors.values()) {
      if (d.inFlight >= d.slots || !qualifies(d)) continue;
      const rank = rankOf(d);
      if (rank < bestRank) {
        best = [paced(d, model)];
        bestRank = rank;
      } else if (rank === bestRank) best.push(paced(d, model));
    }
    if (best.length === 0) return null;
    const h = horizon(model);
    // A donor not yet timed on this model gets one lease first, when it would be back within
    // the horizon: it is measured, and every donor takes part (a weighted draw alone may pass
    // a slow-looking newcomer by for the whole of a short job).
    const probes = best.filter(
      (p) => p.inFlight === 0 && !o.speeds.measured(p.donor.id, model) && finishMs(p) <= h,
    );
    if (probes.length > 0) return probes[Math.floor(o.random() * probes.length)]!.donor;
    let soonest = Number.POSITIVE_INFINITY;
    for (const p of best) soonest = Math.min(soonest, finishMs(p));
    // Only past the horizon does a busy donor's finish matter (a second walk, near the end only),
    // and only one at least `WAIT_FOR` times faster per task: a deeper queue alone (a far donor's
    // window, its results on their way back) is no reason to leave a slot idle.
    let busyBest = Number.POSITIVE_INFINITY;
    if (soonest > h) {
      let slowest = 0;
      for (const p of best) if (finishMs(p) === soonest) slowest = Math.max(slowest, p.taskMs);
      for (const d of donors.values()) {
        if (d.inFlight < d.slots || !qualifies(d) || rankOf(d) > bestRank) continue;
        const p = paced(d, model);
        if (p.taskMs * WAIT_FOR <= slowest) busyBest = Math.min(busyBest, finishMs(p));
      }
    }
    const got = pickBySpeed(best, { horizonMs: h, busyBest, random: o.random });
    return got === 'wait' || got === null ? got : got.donor;
  };

  return {
    pick,
    expectedMs: (t, d) => finishMs(paced(d, t.spec.model)),
    issued: () => void issued++,
    planned: () => void planned++,
  };
}

/**
 * Speed-aware donor choice, the placement policy's half that knows time.
 *
 * - In proportion to speed: a lease goes to a donor with room drawn at
 *   random, weighted by its speed (runs ÷ measured task time) and its free
 *   share. Donors pull work as they free slots, so a 50× faster donor gets
 *   about 50× the tasks. The draw, not a ranking, picks a task's replica
 *   donors: however fast a donor is (or claims to be), its chance of
 *   holding both replicas of a task is its share of the grid's speed
 *   squared, and it never chooses which tasks it gets (tasks are placed in
 *   order; speed only decides which donor with room takes the next one).
 * - Near the end: a donor that would finish the lease after the grid could
 *   finish all outstanding work (the horizon) is passed over for one that
 *   finishes sooner; if that one is busy, the lease waits for it.
 * - Stragglers (`pickBackup`): when nothing is left to place, a lease that
 *   a fast idle donor would finish well before the straggler can is
 *   issued once more to that donor (see placement.ts).
 */
import type { Random } from '../platform.ts';

/** A donor as speed-aware choice sees it. */
export interface PacedDonor {
  readonly inFlight: number;
  /** Leases it may hold. */
  readonly slots: number;
  /** Tasks it runs at once (<= slots). */
  readonly runs: number;
  /** Expected time per task of one of its runs, ms. */
  readonly taskMs: number;
}

/** When a new lease on `d` would come back, ms from now: behind its queue, `runs` at a time. */
export const finishMs = (d: PacedDonor): number =>
  d.taskMs * Math.max(1, (d.inFlight + 1) / Math.max(1, d.runs));

/** Tasks per ms the donor computes when busy. */
export const rateOf = (d: PacedDonor): number => Math.max(1, d.runs) / d.taskMs;

/**
 * The horizon, ms: when the grid could finish everything outstanding (the
 * leases in flight and `unplaced` leases still to issue) if every donor
 * computed at its speed without a pause. Infinity with no speed on offer.
 */
export function horizonMs(donors: Iterable<PacedDonor>, unplaced: number): number {
  let rate = 0;
  let held = 0;
  for (const d of donors) {
    rate += rateOf(d);
    held += d.inFlight;
  }
  return rate > 0 ? (held + Math.max(0, unplaced)) / rate : Number.POSITIVE_INFINITY;
}

/**
 * Chooses among `candidates` (eligible donors with room, all of one rank):
 * `null` when there are none, `'wait'` when each would finish after both
 * the horizon and some eligible donor that is busy now (`busyBest`: the
 * soonest finish among them, Infinity if none), else a donor drawn at
 * random, weighted by speed and free share, among those finishing by the
 * later of the horizon and the soonest finish on offer.
 */
export function pickBySpeed<D extends PacedDonor>(
  candidates: readonly D[],
  o: { readonly horizonMs: number; readonly busyBest: number; readonly random: Random },
): D | 'wait' | null {
  if (candidates.length === 0) return null;
  let soonest = Number.POSITIVE_INFINITY;
  for (const d of candidates) soonest = Math.min(soonest, finishMs(d));
  if (soonest > o.horizonMs && o.busyBest < soonest) return 'wait';
  const by = Math.max(o.horizonMs, soonest);
  let total = 0;
  const weights = candidates.map((d) => {
    const w = finishMs(d) <= by ? rateOf(d) * (1 - d.inFlight / d.slots) : 0;
    total += w;
    return w;
  });
  if (!(total > 0)) return null;
  let x = o.random() * total;
  for (let i = 0; i < candidates.length; i++) {
    x -= weights[i]!;
    if (x < 0 && weights[i]! > 0) return candidates[i]!;
  }
  for (let i = candidates.length - 1; i >= 0; i--) if (weights[i]! > 0) return candidates[i]!;
  return null;
}

/** Past this many times its expected time a lease is late (a straggler whatever its donor's speed). */
export const LATE_AFTER = 2;

/**
 * What a lease in flight still needs, ms, by its expected time: until its
 * expected end while on time, but never under half its expected time (the
 * tail of task times is long: one due any moment may still take a while);
 * once past `LATE_AFTER` times its expected time, as long again (something
 * is wrong: it may never come).
 */
export function leftMs(l: { readonly issuedAt: number; readonly expectedMs: number }, now: number) {
  const ran = now - l.issuedAt;
  if (ran > LATE_AFTER * l.expectedMs) return l.expectedMs;
  return Math.max(l.expectedMs / 2, l.expectedMs - ran);
}

/**
 * A backup of `l` pays when its donor would finish within this, ms: under
 * half what the straggler still needs (`leftMs`), or, for a late one, its
 * expected time.
 */
export function backupWithinMs(
  l: { readonly issuedAt: number; readonly expectedMs: number },
  now: number,
): number {
  const late = now - l.issuedAt > LATE_AFTER * l.expectedMs;
  const left = leftMs(l, now);
  return late ? left : left / 2;
}

export const backupPays = (
  backupFinishMs: number,
  l: { readonly issuedAt: number; readonly expectedMs: number },
  now: number,
): boolean => backupFinishMs < backupWithinMs(l, now);

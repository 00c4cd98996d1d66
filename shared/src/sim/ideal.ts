/**
 * The ideal makespan of a run: the earliest time by which donors computing
 * without a pause could have done its work, given when each was online and
 * how far away it is. A donor online from `from` to `to` computes at `rate`
 * (tasks per ms at its mean task time) from `from + latency` (the first
 * assign reached it) until `to`, and nothing it finishes after
 * `T − latency` reaches the submitter by `T`. What a real run loses beyond
 * it is idle slots: latency not hidden, leases stuck in queues, the tail.
 */
export interface Spell {
  readonly from: number;
  /** Infinity: online to the end. */
  readonly to: number;
  /** Tasks per ms. */
  readonly rate: number;
  /** One-way latency, ms. */
  readonly latency: number;
}

/** Tasks the spells could have returned by `t`. */
export function capacityBy(spells: readonly Spell[], t: number): number {
  let n = 0;
  for (const s of spells) {
    const span = Math.min(s.to, t - s.latency) - (s.from + s.latency);
    if (span > 0) n += s.rate * span;
  }
  return n;
}

/** The earliest time by which the spells could have returned `work` tasks (Infinity if never). */
export function idealMakespan(spells: readonly Spell[], work: number): number {
  if (work <= 0) return 0;
  let hi = 1;
  while (capacityBy(spells, hi) < work) {
    hi *= 2;
    if (hi > 1e15) return Number.POSITIVE_INFINITY;
  }
  let lo = 0;
  for (let i = 0; i < 64 && hi - lo > 1e-6 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (capacityBy(spells, mid) >= work) hi = mid;
    else lo = mid;
  }
  return hi;
}

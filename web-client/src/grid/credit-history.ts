/**
 * This peer id's verified compute over time, across sessions: the credit
 * totals (from submitters' verdicts) sampled when they are saved, one point
 * per bucket of time, with the grid the tab served then. Pure: the page
 * database keeps the points beside the totals.
 */
import type { DonorCredit } from '@peergrid/shared';

/** Cumulative totals at time `t` (ms since the epoch), while serving `grid`. */
export interface CreditPoint extends DonorCredit {
  readonly t: number;
  readonly grid: string;
}

export interface CreditHistoryOptions {
  /** Points closer than this (same grid) merge into the later one, ms. Default 5 minutes. */
  readonly bucketMs?: number;
  /** Most points kept; past it, neighbouring old points merge pairwise. Default 2000. */
  readonly maxPoints?: number;
}

export const CREDIT_BUCKET_MS = 5 * 60_000;
export const CREDIT_MAX_POINTS = 2000;

/** The history with `p` added (a new array; `history` is not changed). */
export function appendCreditPoint(
  history: readonly CreditPoint[],
  p: CreditPoint,
  o: CreditHistoryOptions = {},
): CreditPoint[] {
  const bucketMs = o.bucketMs ?? CREDIT_BUCKET_MS;
  const maxPoints = Math.max(2, o.maxPoints ?? CREDIT_MAX_POINTS);
  const out = history.slice();
  const last = out.at(-1);
  // A second in the same bucket and grid replaces the first (the totals only grow).
  const prev = out.at(-2);
  if (
    last &&
    prev &&
    last.grid === p.grid &&
    prev.grid === p.grid &&
    Math.floor(last.t / bucketMs) === Math.floor(p.t / bucketMs)
  )
    out[out.length - 1] = p;
  else out.push(p);
  if (out.length > maxPoints) {
    // Thin the older half: every second point goes (the later one holds the totals).
    const half = Math.floor(out.length / 2);
    const old = out.slice(0, half).filter((_, i) => i % 2 === 1);
    return [...old, ...out.slice(half)];
  }
  return out;
}

export interface GridServed {
  readonly grid: string;
  readonly accepted: number;
  readonly verifiedMs: number;
  readonly rejected: number;
}

/** What each grid got: the growth of the totals, credited to the grid of the later point. */
export function gridsServed(history: readonly CreditPoint[]): GridServed[] {
  const by = new Map<string, { accepted: number; verifiedMs: number; rejected: number }>();
  let prev: DonorCredit = { accepted: 0, verifiedMs: 0, rejected: 0 };
  for (const p of history) {
    const g = by.get(p.grid) ?? { accepted: 0, verifiedMs: 0, rejected: 0 };
    g.accepted += Math.max(0, p.accepted - prev.accepted);
    g.verifiedMs += Math.max(0, p.verifiedMs - prev.verifiedMs);
    g.rejected += Math.max(0, p.rejected - prev.rejected);
    by.set(p.grid, g);
    prev = p;
  }
  return [...by].map(([grid, g]) => ({ grid, ...g })).sort((a, b) => b.verifiedMs - a.verifiedMs);
}

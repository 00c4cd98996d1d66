/**
 * Reputation, keyed by a donor's peer id (derived from its public key), kept
 * across jobs: agreement record, spot checks, exclusion and credit.
 */
import type { PeerId } from '../contracts.ts';

export interface ReputationRecord {
  readonly peerId: PeerId;
  /** Results that agreed with the accepted answer. */
  readonly agreements: number;
  /** Results that lost a vote or contradicted an accepted answer. */
  readonly disagreements: number;
  /** Known-answer checks passed since the last lost vote. */
  readonly spotPassed: number;
  /** Agreeing results in a row (reset by a lost vote). */
  readonly streak: number;
  /** Votes lost in a row, with no agreement in between (absent in old records: 0). */
  readonly lostInRow?: number;
  /** Caught lying: never assigned again; what it vouched for alone is re-verified. */
  readonly excluded: boolean;
  readonly excludedReason?: string;
  /** Verified compute, ms of accepted work (credit). */
  readonly creditMs: number;
}

/** Default {@link ReputationOptions.trustAfterSpotChecks}. */
export const TRUST_AFTER_SPOT_CHECKS = 3;
/**
 * Default {@link ReputationOptions.trustAfterStreak}. A donor that lies on a
 * share s of its results shows a clean streak of n with probability (1 − s)^n:
 * with s = 0.1, 35% for 10 but 4% for 30, so a rare liar seldom earns single
 * replicas within one job. With 10, `npm run sim -- --tasks 2000` accepted up
 * to 42 wrong results per table (liars trusted, then not caught before the
 * job ended); with 30, none over seeds 1–4, at about 1.6 results per task in
 * such short jobs instead of 1.35, and the same ~1.16 over 20,000 tasks.
 */
export const TRUST_AFTER_STREAK = 30;

export interface ReputationOptions {
  /** Known-answer checks a donor must pass before it is trusted. Default {@link TRUST_AFTER_SPOT_CHECKS} (3). */
  readonly trustAfterSpotChecks?: number;
  /** Agreeing results in a row before it is trusted. Default {@link TRUST_AFTER_STREAK} (30). */
  readonly trustAfterStreak?: number;
  /**
   * Votes lost in a row (no agreement in between) after which `disagreed`
   * reports the donor as a persistent outlier, to be excluded. Default 3.
   */
  readonly excludeAfterLostInRow?: number;
}

export interface ReputationBook {
  get(peer: PeerId): ReputationRecord;
  /** Trusted donors may run tasks alone (adaptive replication), checked by spot checks. */
  isTrusted(peer: PeerId): boolean;
  isExcluded(peer: PeerId): boolean;
  agreed(peer: PeerId, opts?: { spot?: boolean }): void;
  /**
   * A lost vote: the donor's trust starts over. True once it has lost
   * `excludeAfterLostInRow` votes in a row (the engine then excludes it).
   */
  disagreed(peer: PeerId): boolean;
  /** Caught lying. Listeners (job engines) re-verify what the donor vouched for. */
  exclude(peer: PeerId, reason: string): void;
  /** Lifts an exclusion that rested on an answer later overturned; trust starts over. */
  reinstate(peer: PeerId): void;
  credit(peer: PeerId, ms: number): void;
  /** Called once per exclusion; returns an unsubscribe function. */
  onExcluded(fn: (peer: PeerId) => void): () => void;
  records(): ReputationRecord[];
  /** Records changed since the last call (for the store). */
  takeChanged(): ReputationRecord[];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const blank = (peerId: PeerId): Mutable<ReputationRecord> => ({
  peerId,
  agreements: 0,
  disagreements: 0,
  spotPassed: 0,
  streak: 0,
  lostInRow: 0,
  excluded: false,
  creditMs: 0,
});

export function createReputationBook(
  initial: readonly ReputationRecord[] = [],
  options: ReputationOptions = {},
): ReputationBook {
  const trustSpots = options.trustAfterSpotChecks ?? TRUST_AFTER_SPOT_CHECKS;
  const trustStreak = options.trustAfterStreak ?? TRUST_AFTER_STREAK;
  const lostLimit = options.excludeAfterLostInRow ?? 3;
  const byPeer = new Map<PeerId, Mutable<ReputationRecord>>();
  for (const r of initial) byPeer.set(r.peerId, { ...r });
  const changed = new Set<PeerId>();
  const listeners = new Set<(peer: PeerId) => void>();

  const rec = (peer: PeerId) => {
    let r = byPeer.get(peer);
    if (!r) {
      r = blank(peer);
      byPeer.set(peer, r);
    }
    changed.add(peer);
    return r;
  };

  return {
    get: (peer) => ({ ...(byPeer.get(peer) ?? blank(peer)) }),
    isTrusted(peer) {
      const r = byPeer.get(peer);
      return !!r && !r.excluded && r.spotPassed >= trustSpots && r.streak >= trustStreak;
    },
    isExcluded: (peer) => byPeer.get(peer)?.excluded ?? false,
    agreed(peer, opts) {
      const r = rec(peer);
      r.agreements++;
      r.streak++;
      r.lostInRow = 0;
      if (opts?.spot) r.spotPassed++;
    },
    disagreed(peer) {
      const r = rec(peer);
      r.disagreements++;
      r.streak = 0;
      r.spotPassed = 0;
      r.lostInRow = (r.lostInRow ?? 0) + 1;
      return r.lostInRow >= lostLimit;
    },
    exclude(peer, reason) {
      const r = rec(peer);
      if (r.excluded) return;
      r.excluded = true;
      r.excludedReason = reason;
      for (const fn of [...listeners]) fn(peer);
    },
    reinstate(peer) {
      const r = rec(peer);
      r.excluded = false;
      delete r.excludedReason;
      r.streak = 0;
      r.lostInRow = 0;
      r.spotPassed = 0;
    },
    credit(peer, ms) {
      rec(peer).creditMs += ms;
    },
    onExcluded(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    records: () => [...byPeer.values()].map((r) => ({ ...r })),
    takeChanged() {
      const out = [...changed].map((p) => ({ ...byPeer.get(p)! }));
      changed.clear();
      return out;
    },
  };
}

/**
 * Reputation, keyed by a donor's peer id (derived from its public key), kept
 * across jobs: its audited record, lost votes, exclusion and credit. What
 * the record is worth (error odds, the chance to run alone) is credibility.ts.
 */
import type { PeerId } from '../contracts.ts';
import { soloAfter } from './credibility.ts';
import { DEFAULT_POLICY } from './spec.ts';

export interface ReputationRecord {
  readonly peerId: PeerId;
  /** Results that agreed with the accepted result. */
  readonly agreements: number;
  /** Results that lost a vote (disagreed with the accepted result). */
  readonly disagreements: number;
  /**
   * Results confirmed by an independent backer (another donor's matching
   * result, or an anchor's) since the donor last lost a vote: its audited
   * clean record. A lost vote returns it to 0 (probation).
   */
  readonly audited: number;
  /** Votes lost since the donor was last reinstated, towards exclusion. */
  readonly losses: number;
  /** Distinct credible donors whose results outvoted it, over those losses (at most 16 kept). */
  readonly witnesses: readonly PeerId[];
  /** Never assigned again; what it backed is verified again. */
  readonly excluded: boolean;
  readonly excludedReason?: string;
  /** Verified compute, ms of accepted work (credit). */
  readonly creditMs: number;
}

/** Default {@link ReputationOptions.excludeAfterLosses}. */
export const EXCLUDE_AFTER_LOSSES = 3;
/** Default {@link ReputationOptions.excludeWitnesses}. */
export const EXCLUDE_WITNESSES = 3;
/** Default {@link ReputationOptions.trustAfter}: the record the default policy needs to run a task alone. */
export const TRUST_AFTER = soloAfter(DEFAULT_POLICY);
const MAX_WITNESSES = 16;

export interface ReputationOptions {
  /**
   * Votes lost against credible backers before a donor is excluded without
   * anchor evidence. Default {@link EXCLUDE_AFTER_LOSSES} (3).
   */
  readonly excludeAfterLosses?: number;
  /**
   * Distinct credible donors those losses must have been against: a few
   * colluders outvoting an honest donor now and then never exclude it.
   * Default {@link EXCLUDE_WITNESSES} (3).
   */
  readonly excludeWitnesses?: number;
  /** Audited record after which `isTrusted` holds. Default {@link TRUST_AFTER}. */
  readonly trustAfter?: number;
}

/** How a donor lost a vote. */
export interface Loss {
  /** Credible donors in the winning group (anchors included). */
  readonly witnesses: readonly PeerId[];
  /** An anchor backed the winning result: the donor is caught lying. */
  readonly anchor: boolean;
}

export interface ReputationBook {
  get(peer: PeerId): ReputationRecord;
  /** Its audited record (`get(peer).audited`, without copying the record: a hot path). */
  audited(peer: PeerId): number;
  /** Its audited record reaches `trustAfter` (it may run tasks alone under the default policy). */
  isTrusted(peer: PeerId): boolean;
  isExcluded(peer: PeerId): boolean;
  /** Its result was in the accepted group; `confirmed` when another backer (or an anchor) matched it. */
  agreed(peer: PeerId, confirmed: boolean): void;
  /**
   * Its result lost a vote: back to probation. True when the evidence is
   * enough to exclude it (anchor evidence, or repeated losses against enough
   * distinct credible donors); the engine then excludes it.
   */
  lost(peer: PeerId, loss: Loss): boolean;
  /** Caught lying. Listeners (job engines) re-verify what the donor backed. */
  exclude(peer: PeerId, reason: string): void;
  /** Lifts an exclusion that rested on a result later overturned; the record starts over. */
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
  audited: 0,
  losses: 0,
  witnesses: [],
  excluded: false,
  creditMs: 0,
});

/** A stored record, from this version or an older one (which had no audited record: it starts on probation). */
function normalize(r: Partial<ReputationRecord> & { peerId: PeerId }): Mutable<ReputationRecord> {
  const n = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : 0);
  return {
    ...blank(r.peerId),
    agreements: n(r.agreements),
    disagreements: n(r.disagreements),
    audited: n(r.audited),
    losses: n(r.losses),
    witnesses: Array.isArray(r.witnesses) ? r.witnesses.slice(0, MAX_WITNESSES) : [],
    excluded: r.excluded === true,
    ...(r.excluded === true && r.excludedReason ? { excludedReason: r.excludedReason } : {}),
    creditMs: n(r.creditMs),
  };
}

export function createReputationBook(
  initial: readonly ReputationRecord[] = [],
  options: ReputationOptions = {},
): ReputationBook {
  const lossLimit = options.excludeAfterLosses ?? EXCLUDE_AFTER_LOSSES;
  const witnessLimit = options.excludeWitnesses ?? EXCLUDE_WITNESSES;
  const trustAfter = options.trustAfter ?? TRUST_AFTER;
  const byPeer = new Map<PeerId, Mutable<ReputationRecord>>();
  for (const r of initial) byPeer.set(r.peerId, normalize(r));
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
    audited: (peer) => byPeer.get(peer)?.audited ?? 0,
    isTrusted(peer) {
      const r = byPeer.get(peer);
      return !!r && !r.excluded && r.audited >= trustAfter;
    },
    isExcluded: (peer) => byPeer.get(peer)?.excluded ?? false,
    agreed(peer, confirmed) {
      const r = rec(peer);
      r.agreements++;
      if (confirmed) r.audited++;
    },
    lost(peer, loss) {
      const r = rec(peer);
      r.disagreements++;
      r.audited = 0;
      r.losses++;
      const w = new Set(r.witnesses);
      for (const p of loss.witnesses) if (p !== peer && w.size < MAX_WITNESSES) w.add(p);
      r.witnesses = [...w];
      return loss.anchor || (r.losses >= lossLimit && w.size >= witnessLimit);
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
      r.audited = 0;
      r.losses = 0;
      r.witnesses = [];
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

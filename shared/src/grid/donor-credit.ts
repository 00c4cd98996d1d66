/**
 * The donor's view of its verified work: counts what submitters tell it
 * after verifying its results (see job-runner.ts): a `verdict` per lease
 * (submitters before version 4), counted once per submitter and lease, or
 * `credit` totals per job and session (version 4), of which the largest
 * heard counts. Listens on links beside the donor agent. Informational
 * only: nothing here is trusted for scheduling.
 */
import type { PeerLink } from '../peer/link.ts';
import type { CreditMessage, VerdictMessage } from '../peer/messages.ts';

/** What submitters told this donor about its results. */
export interface DonorCredit {
  /** Results accepted (verdict `accepted`). */
  readonly accepted: number;
  /** Compute credited by accepted verdicts, ms. */
  readonly verifiedMs: number;
  /** Results rejected: they disagreed with the accepted result. */
  readonly rejected: number;
}

export interface DonorCreditOptions {
  /**
   * Verdict keys (submitter, lease) remembered to drop duplicates, and as
   * many credit totals (submitter, job, session). Default 4096 each.
   */
  readonly maxRemembered?: number;
}

export interface DonorCreditCounter {
  /** Counts verdicts arriving on this link. Returns detach. */
  attach(link: PeerLink): () => void;
  credit(): DonorCredit;
  /** Adds totals kept from earlier sessions (read after counting began). */
  addEarlier(earlier: DonorCredit): void;
  /** Hears the new totals after each counted verdict. Returns an unsubscribe function. */
  onChange(handler: (credit: DonorCredit) => void): () => void;
}

export const NO_CREDIT: DonorCredit = { accepted: 0, verifiedMs: 0, rejected: 0 };

export function createDonorCreditCounter(opts: DonorCreditOptions = {}): DonorCreditCounter {
  const maxRemembered = Math.max(1, opts.maxRemembered ?? 4096);
  const seen = new Set<string>();
  /** The remembered keys, oldest first from `oldest` (a ring: evicting never walks the set). */
  const order: string[] = [];
  let oldest = 0;
  const handlers = new Set<(c: DonorCredit) => void>();
  let c = NO_CREDIT;
  /** The largest credit totals heard per (submitter, job, session), the oldest first out. */
  const totals = new Map<string, DonorCredit>();

  function count(from: string, v: VerdictMessage): void {
    const key = `${from}\u0000${v.jobId}\u0000${v.leaseId}`;
    if (seen.has(key)) return;
    seen.add(key);
    if (order.length < maxRemembered) order.push(key);
    else {
      seen.delete(order[oldest]!);
      order[oldest] = key;
      oldest = (oldest + 1) % maxRemembered;
    }
    c =
      v.verdict === 'accepted'
        ? { ...c, accepted: c.accepted + 1, verifiedMs: c.verifiedMs + v.creditMs }
        : { ...c, rejected: c.rejected + 1 };
    for (const h of handlers) h(c);
  }

  /** Adds what a credit total has beyond the largest one heard under its key. */
  function total(from: string, m: CreditMessage): void {
    const key = `${from}\u0000${m.jobId}\u0000${m.session}`;
    const was = totals.get(key) ?? NO_CREDIT;
    const accepted = Math.max(0, m.accepted - was.accepted);
    const verifiedMs = Math.max(0, m.verifiedMs - was.verifiedMs);
    const rejected = Math.max(0, m.rejected - was.rejected);
    if (accepted === 0 && verifiedMs === 0 && rejected === 0) return;
    totals.delete(key); // re-inserted last: the Map's order is its age
    totals.set(key, {
      accepted: Math.max(m.accepted, was.accepted),
      verifiedMs: Math.max(m.verifiedMs, was.verifiedMs),
      rejected: Math.max(m.rejected, was.rejected),
    });
    if (totals.size > maxRemembered) totals.delete(totals.keys().next().value as string);
    c = {
      accepted: c.accepted + accepted,
      verifiedMs: c.verifiedMs + verifiedMs,
      rejected: c.rejected + rejected,
    };
    for (const h of handlers) h(c);
  }

  return {
    attach(link) {
      const off = link.onMessage((msg) => {
        if (msg.type === 'verdict') count(link.remoteId, msg);
        else if (msg.type === 'credit') total(link.remoteId, msg);
      });
      return () => {
        off();
      };
    },
    credit: () => c,
    addEarlier(e) {
      c = {
        accepted: c.accepted + e.accepted,
        verifiedMs: c.verifiedMs + e.verifiedMs,
        rejected: c.rejected + e.rejected,
      };
      for (const h of handlers) h(c);
    },
    onChange(h) {
      handlers.add(h);
      return () => {
        handlers.delete(h);
      };
    },
  };
}

/**
 * The donor's view of its verified work: counts the `verdict` messages
 * submitters send after verifying a result (see job-runner.ts). Listens on
 * links beside the donor agent; a verdict is counted once per submitter and
 * lease. Informational only: nothing here is trusted for scheduling.
 */
import type { PeerLink } from '../peer/link.ts';
import type { VerdictMessage } from '../peer/messages.ts';

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
  /** Verdict keys (submitter, lease) remembered to drop duplicates. Default 4096. */
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

  return {
    attach(link) {
      const off = link.onMessage((msg) => {
        if (msg.type === 'verdict') count(link.remoteId, msg);
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

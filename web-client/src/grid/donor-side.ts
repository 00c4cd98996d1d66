import type {
  BlobExchange,
  ExecRequest,
  Executor,
  PeerId,
  PeerLink,
  Sha256Hex,
  TensorMap,
} from '@peergrid/shared';
import {
  createDonorAgent,
  createDonorCreditCounter,
  type DonorAgent,
  type DonorCredit,
} from '@peergrid/shared';
import { coalesce } from '../state/coalesce.ts';
import type { CurrentTask } from '../state/types.ts';
import { timers } from './platform.ts';

/** What the Donate view counts. */
export interface DonorCounters {
  readonly tasksDone: number;
  readonly tasksFailed: number;
  readonly computeMs: number;
  /** Compute of results submitters verified (their `verdict` messages), ms. */
  readonly verifiedMs: number;
  /** Results submitters rejected (they disagreed with the accepted result). */
  readonly rejected: number;
  readonly current: readonly CurrentTask[];
}

/** Least time between two Donate-view updates, ms. */
export const DONOR_VIEW_MS = 200;

export interface DonorSideOptions {
  readonly executor: Executor;
  readonly blobs: BlobExchange;
  readonly sha256: Sha256Hex;
  readonly now: () => number;
  readonly onChange: (c: DonorCounters) => void;
  /** Hears the credit totals after each verdict (to keep them across reloads). */
  readonly onCredit?: (credit: DonorCredit) => void;
}

/**
 * This tab as a donor: a donor agent on every link, paused by detaching it
 * (running tasks finish; new assigns go unanswered until the submitter gives up,
 * so pausing also advertises capacity 0 through signaling), rebuilt when the
 * number of workers changes.
 */
export interface DonorSide {
  attach(link: PeerLink): void;
  detach(link: PeerLink): void;
  setPaused(paused: boolean): void;
  /** Rebuilds the agent for the executor's new concurrency. */
  refresh(): void;
  counters(): DonorCounters;
  /** Adds the verified work of earlier sessions (kept in the page database). */
  addEarlierCredit(earlier: DonorCredit): void;
  close(): void;
}

export function createDonorSide(o: DonorSideOptions): DonorSide {
  const links = new Map<PeerLink, () => void>();
  // Verdicts are counted on every link, paused or not: they judge results already sent.
  const credit = createDonorCreditCounter();
  if (o.onCredit) credit.onChange(o.onCredit);
  const creditLinks = new Map<PeerLink, () => void>();
  // Assigns by their feeds object: the agent hands `msg.feeds` to the executor as is.
  const byFeeds = new WeakMap<TensorMap, { leaseId: string; jobId: string; from: PeerId }>();
  const current = new Map<ExecRequest, CurrentTask>();
  let done = 0;
  let failed = 0;
  let computeMs = 0;
  let paused = false;
  const counters = (): DonorCounters => ({
    tasksDone: done,
    tasksFailed: failed,
    computeMs,
    verifiedMs: credit.credit().verifiedMs,
    rejected: credit.credit().rejected,
    current: [...current.values()],
  });
  // At most one update per DONOR_VIEW_MS: short tasks would re-render the Donate view
  // twice per task (start and end), which cost a tab most of its tiny-task rate.
  const view = coalesce(() => o.onChange(counters()), DONOR_VIEW_MS, timers);
  const changed = () => view.schedule();
  credit.onChange(changed);

  const executor: Executor = {
    get concurrency() {
      return o.executor.concurrency;
    },
    backends: () => o.executor.backends(),
    close: () => o.executor.close(),
    async run(req) {
      const who = byFeeds.get(req.feeds);
      current.set(req, {
        leaseId: who?.leaseId ?? '',
        modelHash: req.modelHash,
        jobId: who?.jobId ?? '',
        from: who?.from ?? '',
        startedAt: o.now(),
      });
      changed();
      try {
        const r = await o.executor.run(req);
        done++;
        computeMs += r.computeMs;
        return r;
      } catch (e) {
        failed++;
        throw e;
      } finally {
        current.delete(req);
        changed();
      }
    },
  };

  let agent: DonorAgent = createDonorAgent({ executor, blobs: o.blobs, sha256: o.sha256, timers });

  function attachAgent(link: PeerLink): () => void {
    const offAssign = link.onMessage((msg) => {
      if (msg.type === 'assign')
        byFeeds.set(msg.feeds, { leaseId: msg.leaseId, jobId: msg.jobId, from: link.remoteId });
    });
    const offAgent = agent.attach(link);
    return () => {
      offAssign();
      offAgent();
    };
  }

  return {
    attach(link) {
      if (links.has(link)) return;
      links.set(link, paused ? () => {} : attachAgent(link));
      creditLinks.set(link, credit.attach(link));
      link.onClose(() => {
        links.delete(link);
        creditLinks.delete(link);
      });
    },
    detach(link) {
      links.get(link)?.();
      links.delete(link);
      creditLinks.get(link)?.();
      creditLinks.delete(link);
    },
    setPaused(p) {
      if (p === paused) return;
      paused = p;
      for (const [link, off] of links) {
        off();
        links.set(link, paused ? () => {} : attachAgent(link));
      }
      changed();
    },
    refresh() {
      const old = agent;
      agent = createDonorAgent({ executor, blobs: o.blobs, sha256: o.sha256, timers });
      for (const [link, off] of links) {
        off();
        links.set(link, paused ? () => {} : attachAgent(link));
      }
      old.close();
    },
    counters,
    addEarlierCredit: (earlier) => credit.addEarlier(earlier),
    close() {
      for (const off of [...links.values(), ...creditLinks.values()]) off();
      links.clear();
      creditLinks.clear();
      view.cancel();
      agent.close();
    },
  };
}

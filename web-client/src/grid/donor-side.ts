import type {
  BlobExchange,
  ExecRequest,
  ExecResult,
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
  PeerGridError,
} from '@peergrid/shared';
import type { RunHooks } from '../exec/worker-pool.ts';
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
  /** Share of each worker's time spent running, 0.01–1 (the CPU share slider). */
  readonly cpuShare: number;
  /** Busy time ÷ (wall time × workers) over the last 30 s. */
  readonly measuredShare: number;
  /** Why the tab is paused (the button, on battery, computer in use), when it is. */
  readonly pauseReason: string | null;
}

/** Least time between two Donate-view updates, ms. */
export const DONOR_VIEW_MS = 200;

/**
 * What a donor side runs tasks on: the page's worker pool (which tells when
 * a run starts and drops runs not started), or any Executor (tests).
 */
export type DonorExecutor = Executor & {
  run(req: ExecRequest, hooks?: RunHooks): Promise<ExecResult>;
  /** Drops a run not started yet; it rejects with `reason`. False when it cannot. */
  cancel?(req: ExecRequest, reason?: PeerGridError): boolean;
};

export interface DonorSideOptions {
  readonly executor: DonorExecutor;
  readonly blobs: BlobExchange;
  readonly sha256: Sha256Hex;
  readonly now: () => number;
  readonly onChange: (c: DonorCounters) => void;
  /** Hears the credit totals after each verdict (to keep them across reloads). */
  readonly onCredit?: (credit: DonorCredit) => void;
  /** Share of each worker's time spent running, 0.01–1. Default 1. */
  readonly cpuShare?: number;
}

/**
 * This tab as a donor: a donor agent on every link, rebuilt when the number
 * of workers changes. Pausing hands queued leases back at once (error
 * `paused`: submitters re-issue them without charging anyone), lets running
 * tasks finish and answers new assigns `paused`; the page also advertises
 * capacity 0 through signaling. The CPU share paces each worker. Leases the
 * executor took early (its `prefetch`) and has not started go back the same
 * way on a pause, and are dropped when their submitter cancels them or
 * leaves; the Donate view lists a lease as current once it starts.
 */
export interface DonorSide {
  attach(link: PeerLink): void;
  detach(link: PeerLink): void;
  /** Pauses (with the reason shown) or resumes (`null`). */
  setPaused(paused: boolean, reason?: string): void;
  /** Changes the CPU share (0.01–1), live; throws `bad-option` outside it. */
  setCpuShare(share: number): void;
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
  /** Runs handed to the executor, by submitter and lease (for cancels). */
  const inExecutor = new Map<string, ExecRequest>();
  const leaseKey = (from: PeerId, leaseId: string) => `${from}\u0000${leaseId}`;
  /** Runs this side took back from the executor: handed back, not failed. */
  const takenBack = new WeakSet<ExecRequest>();
  /** Runs started: the Donate view's current tasks. */
  const current = new Map<ExecRequest, CurrentTask>();
  let done = 0;
  let failed = 0;
  let computeMs = 0;
  let paused = false;
  let pauseReason: string | null = null;
  let cpuShare = o.cpuShare ?? 1;
  const counters = (): DonorCounters => ({
    tasksDone: done,
    tasksFailed: failed,
    computeMs,
    verifiedMs: credit.credit().verifiedMs,
    rejected: credit.credit().rejected,
    current: [...current.values()],
    cpuShare,
    measuredShare: agent.status().measuredShare,
    pauseReason: paused ? pauseReason : null,
  });
  // At most one update per DONOR_VIEW_MS: short tasks would re-render the Donate view
  // twice per task (start and end), which cost a tab most of its tiny-task rate.
  const view = coalesce(() => o.onChange(counters()), DONOR_VIEW_MS, timers);
  const changed = () => view.schedule();
  credit.onChange(changed);

  /** Drops the executor's runs not started yet; `which` picks them by submitter. */
  function cancelWaiting(reason: PeerGridError, which: (key: string) => boolean = () => true) {
    const cancel = o.executor.cancel?.bind(o.executor);
    if (!cancel) return;
    for (const [key, req] of inExecutor)
      if (!current.has(req) && which(key) && cancel(req, reason)) takenBack.add(req);
  }

  const executor: Executor = {
    get concurrency() {
      return o.executor.concurrency;
    },
    get prefetch() {
      return o.executor.prefetch;
    },
    backends: () => o.executor.backends(),
    close: () => o.executor.close(),
    async run(req) {
      const who = byFeeds.get(req.feeds);
      const key = who ? leaseKey(who.from, who.leaseId) : null;
      if (key) inExecutor.set(key, req);
      const started = () => {
        current.set(req, {
          leaseId: who?.leaseId ?? '',
          modelHash: req.modelHash,
          jobId: who?.jobId ?? '',
          from: who?.from ?? '',
          startedAt: o.now(),
        });
        changed();
      };
      // An executor that takes no runs early starts each at once.
      if (!o.executor.prefetch) started();
      try {
        const r = await o.executor.run(req, { started });
        done++;
        computeMs += r.computeMs;
        return r;
      } catch (e) {
        if (!takenBack.has(req)) failed++;
        throw e;
      } finally {
        if (key && inExecutor.get(key) === req) inExecutor.delete(key);
        if (current.delete(req)) changed();
      }
    },
  };

  const newAgent = (): DonorAgent => {
    const a = createDonorAgent({
      executor,
      blobs: o.blobs,
      sha256: o.sha256,
      timers,
      now: o.now,
      cpuShare,
    });
    if (paused) a.pause(pauseReason ? { reason: pauseReason } : {});
    return a;
  };
  let agent: DonorAgent = newAgent();

  function attachAgent(link: PeerLink): () => void {
    const offAssign = link.onMessage((msg) => {
      if (msg.type === 'assign')
        byFeeds.set(msg.feeds, { leaseId: msg.leaseId, jobId: msg.jobId, from: link.remoteId });
      else if (msg.type === 'cancel') {
        const req = inExecutor.get(leaseKey(link.remoteId, msg.leaseId));
        const reason = new PeerGridError('cancelled', 'cancelled by its submitter');
        if (req && !current.has(req) && o.executor.cancel?.(req, reason)) takenBack.add(req);
      }
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
      links.set(link, attachAgent(link));
      creditLinks.set(link, credit.attach(link));
      link.onClose(() => {
        links.delete(link);
        creditLinks.delete(link);
        // Nobody would hear these results.
        const from = leaseKey(link.remoteId, '');
        cancelWaiting(new PeerGridError('cancelled', 'its submitter left'), (k) =>
          k.startsWith(from),
        );
      });
    },
    detach(link) {
      links.get(link)?.();
      links.delete(link);
      creditLinks.get(link)?.();
      creditLinks.delete(link);
    },
    setPaused(p, reason) {
      const why = p ? (reason ?? null) : null;
      if (p === paused && why === pauseReason) return;
      paused = p;
      pauseReason = why;
      if (p) {
        agent.pause(why ? { reason: why } : {});
        // Leases the executor took early go back as the agent's queued ones did.
        cancelWaiting(new PeerGridError('paused', `this donor paused${why ? ` (${why})` : ''}`));
      } else agent.resume();
      changed();
    },
    setCpuShare(share) {
      agent.setCpuShare(share);
      cpuShare = share;
      changed();
    },
    refresh() {
      const old = agent;
      agent = newAgent();
      for (const [link, off] of links) {
        off();
        links.set(link, attachAgent(link));
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

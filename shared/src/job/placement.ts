/**
 * Placement: which donor runs which lease next. Urgent work (disputes,
 * re-verification, re-issued leases) first, then fresh tasks in order; a
 * share of assignments are audits (re-runs of verified tasks); a trusted
 * donor's fresh task is planned solo (adaptive replication).
 */
import type { PeerId } from '../contracts.ts';
import type { Random } from '../platform.ts';
import type { LeaseLedger } from './lease-ledger.ts';
import type { ReputationBook } from './reputation.ts';
import type { DonorRt, TaskRt } from './runtime.ts';
import { pickDonor } from './scheduler.ts';
import type { Policy } from './spec.ts';
import type { TaskMachine } from './task-machine.ts';

/** Fresh tasks waiting for an eligible donor before fresh placement pauses. */
const MAX_SKIPS = 32;

export interface Placement {
  /** Queues a task for placement (urgent: before fresh work). */
  enqueue(t: TaskRt, urgent: boolean): void;
  /** Leases still to place for `t`; none while an input is being re-verified. */
  need(t: TaskRt): number;
  /** A verified result that audits may re-run (`firm`: backed by a trusted donor). */
  seed(t: TaskRt, firm: boolean): void;
  /** Places what it can on the donors with room. */
  schedule(): void;
  /** Some donor that is not excluded has a free slot. */
  hasCapacity(): boolean;
}

export function createPlacement(o: {
  readonly random: Random;
  readonly policy: Policy;
  readonly book: ReputationBook;
  readonly donors: ReadonlyMap<PeerId, DonorRt>;
  readonly ledger: LeaseLedger;
  readonly tasks: () => TaskMachine;
  /** The job is running (nothing is placed otherwise). */
  readonly running: () => boolean;
  /** An urgent task no donor could take: settle it if no donor on offer ever could. */
  readonly settleStarved: (t: TaskRt) => boolean;
}): Placement {
  const { random, policy, book, donors, ledger } = o;
  const urgent: TaskRt[] = [];
  const fresh: TaskRt[] = [];
  const firmPool: TaskRt[] = [];
  const weakPool: TaskRt[] = [];
  let freshHead = 0;
  /** Fresh tasks (in order) skipped because no donor with room could take them. */
  const waiting: TaskRt[] = [];

  const need = (t: TaskRt) => {
    if (t.state !== 'ready' && t.state !== 'running') return 0;
    for (const d of t.deps) if (d.state !== 'verified') return 0;
    let valid = 0;
    for (const r of t.results) if (!book.isExcluded(r.donor)) valid++;
    return t.target - valid - t.inFlight;
  };

  const auditSeed = (d: DonorRt): TaskRt | null => {
    const pool = firmPool.length > 0 ? firmPool : weakPool;
    for (let tries = 0; tries < 4 && pool.length > 0; tries++) {
      const i = Math.floor(random() * pool.length);
      const t = pool[i]!;
      if (t.state !== 'verified' || (pool === firmPool && !t.accepted?.firm)) {
        pool[i] = pool[pool.length - 1]!;
        pool.pop();
        continue;
      }
      if (!t.feeds || t.used.has(d.id) || t.accepted?.backers.includes(d.id)) continue;
      if (policy.compare.kind === 'exact' && t.accepted?.backend !== d.backend) continue;
      return t;
    }
    return null;
  };

  const excluded = (id: string) => book.isExcluded(id);
  /** Places leases of one task; false when no donor could take one. */
  const place = (t: TaskRt): boolean => {
    while (need(t) > 0) {
      const d = pickDonor(donors.values(), {
        skip: excluded,
        exclude: t.used,
        strictBackend: policy.compare.kind === 'exact' && t.backend !== undefined,
        preferTrusted: t.preferTrusted,
        requireTrusted: t.escalated === true,
        ...(t.backend ? { backend: t.backend } : {}),
      });
      if (!d) return false;
      const dr = d as DonorRt;
      const trusted = book.isTrusted(dr.id);
      const rate = trusted ? policy.spotCheckRate : policy.probationSpotCheckRate;
      if (random() < rate) {
        const seed = auditSeed(dr);
        if (seed) {
          ledger.issue(seed, dr, true);
          continue;
        }
      }
      if (t.state === 'ready') {
        o.tasks().move(t, 'running');
        t.backend = dr.backend;
        if (policy.adaptive && trusted) {
          t.solo = true;
          t.target = 1;
        }
      }
      ledger.issue(t, dr, false);
    }
    return true;
  };

  const hasCapacity = () => {
    for (const d of donors.values())
      if (d.inFlight < d.slots && !book.isExcluded(d.id)) return true;
    return false;
  };

  /**
   * Urgent tasks first, then fresh tasks that no donor could take before
   * (`waiting`, in order), then fresh tasks from `freshHead`. Every fresh task
   * is looked at once: one that cannot be placed moves to `waiting`, so each
   * call costs O(placements + waiting + donors), not O(tasks).
   */
  const schedule = () => {
    if (!o.running() || !hasCapacity()) return;
    for (let i = 0; i < urgent.length; ) {
      const t = urgent[i]!;
      if (need(t) <= 0 || place(t) || o.settleStarved(t)) {
        t.queued = false;
        urgent.splice(i, 1);
      } else if (!hasCapacity()) return;
      else i++;
    }
    for (let i = 0; i < waiting.length; ) {
      const t = waiting[i]!;
      if (!t.queued || need(t) <= 0 || place(t)) {
        t.queued = false;
        waiting.splice(i, 1);
      } else if (!hasCapacity()) return;
      else i++;
    }
    while (freshHead < fresh.length && waiting.length < MAX_SKIPS) {
      const t = fresh[freshHead]!;
      if (t.queued && need(t) > 0 && !place(t)) {
        if (!hasCapacity()) return; // out of donors, not out of luck: try it again first
        waiting.push(t);
      } else t.queued = false;
      freshHead++;
      if (!hasCapacity()) break;
    }
    if (freshHead > 4096 && freshHead * 2 > fresh.length) {
      fresh.splice(0, freshHead);
      freshHead = 0;
    }
  };

  return {
    enqueue(t, isUrgent) {
      if (t.queued) return;
      t.queued = true;
      (isUrgent ? urgent : fresh).push(t);
    },
    need,
    seed: (t, firm) => void (firm ? firmPool : weakPool).push(t),
    schedule,
    hasCapacity,
  };
}

/**
 * Placement: which donor runs which lease next. Urgent work (disputes,
 * re-verification, re-issued leases) first, then fresh tasks in order.
 * A fresh task's plan is drawn when its first lease is placed: a share of
 * tasks go to an anchor beside a donor; a donor with a long audited record
 * may run a task alone (with a chance that grows with its record, capped);
 * once the plan's leases are placed it may get one hidden audit, a lease to
 * one more donor issued in the same pass and on the wire like the others —
 * more often when every donor it went to has a young record.
 *
 * Which donor with room takes a lease is speed-aware (donor-choice.ts):
 * drawn in proportion to measured speed, passed over near the job's end for
 * a donor that would finish sooner. Once nothing is left to place, a
 * straggling lease is backed up on a fast idle donor (stragglers.ts); the
 * straggler is not cancelled when the task is verified: it finishes and
 * counts as a late backer (verification.ts).
 */
import type { PeerId } from '../contracts.ts';
import type { Random } from '../platform.ts';
import { createDonorChoice } from './donor-choice.ts';
import type { LeaseLedger } from './lease-ledger.ts';
import type { ReputationBook } from './reputation.ts';
import type { DonorRt, TaskRt } from './runtime.ts';
import { type Policy, YOUNG_RECORD } from './spec.ts';
import type { SpeedBook } from './speed-book.ts';
import { createStragglers } from './stragglers.ts';
import type { TaskMachine } from './task-machine.ts';

/** Fresh tasks waiting for an eligible donor before fresh placement pauses. */
const MAX_SKIPS = 32;

export interface Placement {
  /** Queues a task for placement (urgent: before fresh work). */
  enqueue(t: TaskRt, urgent: boolean): void;
  /** Leases still to place for `t`; none while an input is being re-verified. */
  need(t: TaskRt): number;
  /** Places what it can on the donors with room. */
  schedule(): void;
  /** Some donor that is not excluded has a free slot. */
  hasCapacity(): boolean;
  /** Could a donor on offer (capacity aside) add a result to `t`? */
  canGrow(t: TaskRt): boolean;
  /** An anchor on offer could add a result to `t` (capacity aside). */
  anchorFor(t: TaskRt): boolean;
}

export function createPlacement(o: {
  readonly random: Random;
  readonly policy: Policy;
  readonly book: ReputationBook;
  readonly donors: ReadonlyMap<PeerId, DonorRt>;
  readonly ledger: LeaseLedger;
  /** Each donor's measured (or, until measured, advertised) time per task. */
  readonly speeds: SpeedBook;
  readonly now: () => number;
  readonly tasks: () => TaskMachine;
  /** The chance that a fresh task placed on this donor runs alone. */
  readonly soloChance: (d: DonorRt) => number;
  /** The job is running (nothing is placed otherwise). */
  readonly running: () => boolean;
  /** An urgent task no donor could take: settle it if no donor on offer ever could. */
  readonly settleStarved: (t: TaskRt) => boolean;
  /** The next fresh task not yet queued (group tasks, made resident as placement reaches them). */
  readonly more?: () => TaskRt | undefined;
}): Placement {
  const { random, policy, book, donors, ledger } = o;
  const urgent: TaskRt[] = [];
  const fresh: TaskRt[] = [];
  let freshHead = 0;
  /** Fresh tasks (in order) skipped because no donor with room could take them. */
  const waiting: TaskRt[] = [];
  const strict = (t: TaskRt) => policy.compare.kind === 'exact' && t.backend !== undefined;

  const need = (t: TaskRt) => {
    if (t.state !== 'ready' && t.state !== 'running') return 0;
    for (const d of t.deps) if (d.state !== 'verified') return 0;
    let valid = 0;
    for (const r of t.results) if (!book.isExcluded(r.donor)) valid++;
    return t.target - valid - t.inFlight;
  };

  const eligible = (t: TaskRt, d: DonorRt) =>
    !t.used.has(d.id) && !book.isExcluded(d.id) && (!strict(t) || d.backend === t.backend);
  const canGrow = (t: TaskRt) => {
    for (const d of donors.values()) if (eligible(t, d)) return true;
    return false;
  };
  const anchorFor = (t: TaskRt) => {
    for (const d of donors.values()) if (d.anchor && eligible(t, d)) return true;
    return false;
  };
  const holdsAnchor = (t: TaskRt) => {
    for (const l of t.leases) if (donors.get(l.donor)?.anchor) return true;
    return t.results.some((r) => donors.get(r.donor)?.anchor);
  };
  const freeAnchor = (t: TaskRt, primary: DonorRt) => {
    for (const d of donors.values()) {
      if (d.anchor && d !== primary && d.inFlight < d.slots && eligible(t, d)) return true;
    }
    return false;
  };

  const choice = createDonorChoice({
    random,
    policy,
    book,
    donors,
    speeds: o.speeds,
    eligible,
    unplaced: (perTask) => o.tasks().counts.ready * perTask + urgent.length + waiting.length,
  });
  const { pick } = choice;

  /** Draws a fresh task's plan, given the donor of its first lease. */
  const plan = (t: TaskRt, d: DonorRt) => {
    o.tasks().move(t, 'running');
    choice.planned();
    t.backend = d.backend;
    if (!d.anchor && policy.anchorShare > 0 && freeAnchor(t, d) && random() < policy.anchorShare) {
      t.anchorPlanned = true;
      t.target = Math.max(2, policy.replicas);
      return;
    }
    const p = o.soloChance(d);
    t.solo = p > 0 && random() < p;
    t.target = t.solo ? 1 : policy.replicas;
    t.auditToDraw = true;
  };

  /** Once the plan's leases are placed: one more, an audit, with the chance their donors call for. */
  const drawAudit = (t: TaskRt) => {
    t.auditToDraw = false;
    let young = true;
    for (const id of t.used) {
      const d = donors.get(id);
      if (d?.anchor || book.audited(id) >= YOUNG_RECORD) young = false;
    }
    const rate = t.solo ? policy.soloAuditRate : young ? policy.youngAuditRate : policy.auditRate;
    if (random() < rate) {
      t.target++;
      t.auditsToIssue = 1;
    }
  };

  const issue = (t: TaskRt, d: DonorRt, audit: boolean, backup = false) => {
    const expectedMs = choice.expectedMs(t, d);
    choice.issued();
    ledger.issue(t, d, audit, { expectedMs, backup });
  };
  const stragglers = createStragglers({
    now: o.now,
    random,
    book,
    donors,
    ledger,
    speeds: o.speeds,
    eligible,
    backUp: (t, d) => issue(t, d, false, true),
  });

  /**
   * Places leases of one task: true when all are placed, false when no
   * donor could take one, 'wait' when a busy donor would take the next
   * sooner than any with room (near the end: it is tried again later).
   */
  const place = (t: TaskRt): boolean | 'wait' => {
    while (need(t) > 0) {
      const wantAnchor = t.anchorOnly || (t.anchorPlanned && !holdsAnchor(t));
      let d = wantAnchor ? pick(t, true) : null;
      if (d === null && !t.anchorOnly) d = pick(t, false);
      if (d === 'wait') return 'wait';
      if (!d) return false;
      if (t.state === 'ready') plan(t, d);
      const audit = t.auditsToIssue > 0 && need(t) <= t.auditsToIssue;
      if (audit) t.auditsToIssue--;
      issue(t, d, audit);
      if (t.auditToDraw && need(t) === 0) drawAudit(t);
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
    let waited = false;
    /** Placed, or settled: it leaves its queue. A task told to wait stays (and is not starved). */
    const done = (t: TaskRt) => {
      if (need(t) <= 0) return true;
      const r = place(t);
      if (r === 'wait') waited = true;
      return r === true || (r === false && o.settleStarved(t));
    };
    for (let i = 0; i < urgent.length; ) {
      const t = urgent[i]!;
      if (done(t)) {
        t.queued = false;
        urgent.splice(i, 1);
      } else if (!hasCapacity()) return;
      else i++;
    }
    for (let i = 0; i < waiting.length; ) {
      const t = waiting[i]!;
      if (!t.queued || done(t)) {
        t.queued = false;
        waiting.splice(i, 1);
      } else if (!hasCapacity()) return;
      else i++;
    }
    while (waiting.length < MAX_SKIPS) {
      if (freshHead >= fresh.length) {
        const next = o.more?.();
        if (!next) break;
        next.queued = true;
        fresh.push(next);
      }
      const t = fresh[freshHead]!;
      const r = t.queued && need(t) > 0 ? place(t) : true;
      // Near the end, a faster donor is busy: the next tasks wait for it too.
      if (r === 'wait') {
        waited = true;
        break;
      }
      if (!r) {
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
    const left = urgent.length + waiting.length + (fresh.length - freshHead);
    if (!waited && left === 0 && o.tasks().counts.ready === 0 && hasCapacity()) stragglers.backUp();
  };

  return {
    enqueue(t, isUrgent) {
      if (t.queued) return;
      t.queued = true;
      (isUrgent ? urgent : fresh).push(t);
    },
    need,
    schedule,
    hasCapacity,
    canGrow,
    anchorFor,
  };
}

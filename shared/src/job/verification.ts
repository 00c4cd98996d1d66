/**
 * Verification, as the engine runs it. A task's results are weighed by
 * `decide` (verify.ts) with each donor's error odds (credibility.ts). An
 * accepted result carries its bound and is told to each lease
 * (`lease-verdict`, winners and losers); winners' records grow, losers go
 * back to probation, and whatever a loser backed is weighed again with its
 * new odds (results that no longer meet the target get more replicas). A
 * loser is excluded only on anchor evidence or repeated losses against
 * several credible donors (reputation.ts), never by one outvoting.
 */
import type { PeerId } from '../contracts.ts';
import type { TensorMap } from '../tensor.ts';
import { outputsMatch } from './compare.ts';
import { donorOdds } from './credibility.ts';
import type { EventLog } from './event-log.ts';
import type { LeaseLedger } from './lease-ledger.ts';
import type { ReputationBook } from './reputation.ts';
import type { ResultRt, TaskRt } from './runtime.ts';
import type { Policy } from './spec.ts';
import type { TaskMachine } from './task-machine.ts';
import { decide, type Vote, type Weighed, weigh } from './verify.ts';

/** Audited record from which a winner counts as a credible witness against a loser. */
export const CREDIBLE_AFTER = 10;

export interface Verification {
  /** Weighs a running task's results: accept, ask for more, or settle a stuck one. */
  evaluate(t: TaskRt): void;
  /** Accepts the best group of a weighing (`final` when its bound meets the target). */
  accept(t: TaskRt, w: Weighed, results: readonly ResultRt[], note?: string): void;
  /** A result that came back for a task already verified (a late lease). */
  lateResult(t: TaskRt, r: ResultRt): void;
  /**
   * Weighs a verified task's accepted result again with its backers' current
   * records (and without excluded ones): re-opens it when the bound no
   * longer meets the target, marks it final when it now does.
   */
  recheck(t: TaskRt, reason: string): void;
  /** Tells a result's lease it was rejected (its donor is excluded). */
  reject(t: TaskRt, r: ResultRt): void;
  /** A running task no donor on offer can add to: accepts what all agree on (not final), else parks it. */
  starved(t: TaskRt): void;
  /** A parked task weighed on current records: true when a group now meets the target (accepted). */
  settle(t: TaskRt): boolean;
  /** Verified tasks whose bound is not under the target (yet). */
  unfinal(): TaskRt[];
  /**
   * An upper bound on the chance that any one accepted result is wrong: the
   * highest bound of the results short of the target, else the highest a
   * result held when it was found final. Cheap: no walk over the tasks.
   */
  achievedError(): number;
  /** A task restored verified from a store (a record without a bound is weighed again). */
  restored(t: TaskRt): void;
  /** A task restored final and kept apart (retired): its bound joins `achievedError`. */
  restoredApart(bound: number): void;
  /** Results of donors not excluded. */
  validResults(t: TaskRt): ResultRt[];
  /** A donor's error odds now. */
  odds(donor: PeerId): number;
  /** Accepted results changed since the last call (for the store). */
  takeChanged(): TaskRt[];
}

export function createVerification(o: {
  readonly jobId: string;
  readonly now: () => number;
  readonly policy: Policy;
  readonly book: ReputationBook;
  readonly log: EventLog;
  readonly ledger: LeaseLedger;
  readonly tasks: TaskMachine;
  readonly isAnchor: (donor: PeerId) => boolean;
  readonly enqueue: (t: TaskRt, urgent: boolean) => void;
  readonly need: (t: TaskRt) => number;
  /** A stuck or starved task: parked until an anchor or more evidence settles it. */
  readonly park: (t: TaskRt, reason: string) => void;
  /** Could a donor on offer add a result to `t` (capacity aside)? */
  readonly canGrow: (t: TaskRt) => boolean;
  readonly exclude: (peer: PeerId, t: TaskRt, reason: string) => void;
  /** `peer` lost a vote: what it backed is weighed again. */
  readonly lostVote: (peer: PeerId) => void;
  /** `t`'s accepted answer changed to `outputs`: donors excluded over the old one who gave it return. */
  readonly reinstate: (t: TaskRt, outputs: TensorMap) => void;
  /** A verified task was re-opened (the job, if completed, runs again). */
  readonly reopened: () => void;
  /** The job still runs (no re-opening after it failed or was cancelled). */
  readonly live: () => boolean;
}): Verification {
  const { policy, book, log, tasks } = o;
  const changed = new Set<TaskRt>();
  const notFinal = new Set<TaskRt>();
  /** The highest bound a result held when it was found final (never lowered: an upper bound). */
  let finalMax = 0;
  const f = policy.saboteurShare;
  const target = policy.targetError;

  const how = (t: TaskRt) => ({
    rule: policy.compare,
    quorum: policy.quorum,
    solo: t.solo,
    saboteurShare: f,
  });
  const odds = (d: PeerId) => (o.isAnchor(d) ? 0 : donorOdds(book.audited(d), f));
  const votes = (rs: readonly ResultRt[]): Vote[] =>
    rs.map((r) => ({ donor: r.donor, outputs: r.outputs, odds: odds(r.donor) }));
  const validResults = (t: TaskRt) => t.results.filter((r) => !book.isExcluded(r.donor));

  const tell = (t: TaskRt, r: ResultRt, accepted: boolean) => {
    if (r.told) return;
    r.told = true;
    log.emit('lease-verdict', {
      taskId: t.spec.id,
      leaseId: r.leaseId,
      donor: r.donor,
      verdict: accepted ? 'accepted' : 'rejected',
      creditMs: accepted ? r.computeMs : 0,
    });
  };
  const credit = (r: ResultRt, confirmed: boolean) => {
    if (r.credited) return;
    r.credited = true;
    book.agreed(r.donor, confirmed);
    book.credit(r.donor, r.computeMs);
  };
  const setFinal = (t: TaskRt, bound: number, announce: boolean) => {
    const final = bound <= target;
    if (final && !t.final && announce) log.emit('task-final', { taskId: t.spec.id, bound });
    t.final = final;
    if (final) {
      notFinal.delete(t);
      finalMax = Math.max(finalMax, bound);
    } else notFinal.add(t);
  };

  const accept = (t: TaskRt, w: Weighed, results: readonly ResultRt[], note?: string) => {
    const prev = t.accepted;
    // The most credible winner's outputs stand (an anchor's first): under a
    // tolerance or argmax rule, matching outputs need not be the same bytes.
    const winners = w.winners.map((i) => results[i]!).sort((a, b) => odds(a.donor) - odds(b.donor));
    const losers = w.losers.map((i) => results[i]!);
    const first = winners[0]!;
    const anchored = winners.some((r) => o.isAnchor(r.donor));
    t.accepted = {
      jobId: o.jobId,
      taskId: t.spec.id,
      outputs: first.outputs,
      backers: winners.map((r) => r.donor),
      bound: w.bound,
      backend: first.backend,
      acceptedAt: o.now(),
    };
    for (const r of results) {
      // Once per audit: a task accepted again (re-verified) does not count its audits twice.
      if (!r.audit || r.told) continue;
      log.emit(w.disputed ? 'audit-failed' : 'audit-passed', { taskId: t.spec.id, donor: r.donor });
    }
    const confirmed = winners.length > 1 || anchored;
    for (const r of winners) {
      credit(r, confirmed);
      tell(t, r, true);
    }
    const witnesses = winners
      .map((r) => r.donor)
      .filter((d) => o.isAnchor(d) || book.audited(d) >= CREDIBLE_AFTER);
    for (const r of losers) {
      tell(t, r, false);
      if (o.isAnchor(r.donor)) continue; // anchors contradicting anchors: the task is stuck instead
      if (book.lost(r.donor, { witnesses, anchor: anchored })) {
        const why = anchored ? 'contradicted an anchor' : 'outvoted repeatedly by credible donors';
        o.exclude(r.donor, t, `${why}, last on task ${t.spec.id}`);
      } else o.lostVote(r.donor);
    }
    // A straggler that was backed up runs on: it counts as a late backer, with credit.
    o.ledger.cancelTask(t, 'task verified', (l) => l.backedUp);
    setFinal(t, w.bound, false);
    const backers = `${winners.length} backer(s), bound ${w.bound.toExponential(1)}`;
    tasks.move(t, 'verified', {
      message: note ? `${backers}, ${note}` : backers,
      backers: winners.length,
      bound: w.bound,
    });
    changed.add(t);
    tasks.kept(t.spec.id);
    t.anchorOnly = false;
    if (prev && !outputsMatch(prev.outputs, first.outputs, policy.compare)) {
      // The old answer was wrong: whoever was excluded for contradicting it told the truth.
      o.reinstate(t, first.outputs);
      for (const d of t.dependents) tasks.invalidate(d);
    } else {
      for (const d of t.dependents) {
        if (d.state === 'blocked' && d.deps.every((x) => x.state === 'verified'))
          tasks.makeReady(d);
        // Dependents held back while this input was re-verified may go on.
        else if (d.state === 'running' || d.state === 'ready') o.enqueue(d, true);
      }
    }
  };

  const more = (t: TaskRt, n: number, disputed: boolean) => {
    if (disputed && !t.credible) log.emit('task-disputed', { taskId: t.spec.id });
    t.credible = t.credible || disputed;
    t.target = n;
    if (o.need(t) > 0) o.enqueue(t, true);
  };

  const evaluate = (t: TaskRt) => {
    const results = validResults(t);
    const planned = Math.max(t.target, 1);
    const d = decide(votes(results), {
      rule: policy.compare,
      quorum: policy.quorum,
      maxReplicas: policy.maxReplicas,
      targetError: target,
      saboteurShare: f,
      solo: t.solo,
      planned,
    });
    if (d.kind === 'accept') return accept(t, d, results);
    if (d.kind === 'more') {
      // Nothing more can come: no lease out and no donor on offer that could add one.
      if (t.inFlight === 0 && !o.canGrow(t)) return starved(t, results);
      return more(t, d.target, d.disputed);
    }
    // At maxReplicas and unanimous: accepted, final once its backers' records make it so (warm-up).
    if (!d.disputed && d.quorate) return accept(t, d, results, 'at maxReplicas, unanimous');
    o.park(t, d.reason);
  };

  /**
   * No donor on offer can add a result (small grids): a quorate group that
   * holds a strict majority is accepted, not final: it becomes final once its
   * backers' records make it so, and the job waits for that. Else park.
   */
  const starved = (t: TaskRt, results: ResultRt[]) => {
    const w = weigh(votes(results), how(t));
    if (w.quorate && w.winners.length * 2 > results.length) {
      const note = `no other donor on offer: a majority of ${results.length}, final once its backers are credible`;
      return accept(t, w, results, note);
    }
    t.credible = t.credible || w.disputed;
    o.park(t, `no donor on offer to settle ${results.length} results`);
  };

  const reopen = (t: TaskRt, reason: string) => {
    if (t.state !== 'verified' || !o.live()) return;
    tasks.move(t, 'running', { message: reason });
    t.solo = false;
    t.credible = true;
    t.final = false;
    if (t.results.length === 0 && t.accepted) {
      // Restored from a store: the backers' results are the accepted outputs.
      for (const donor of t.accepted.backers) {
        t.results.push({
          leaseId: '',
          donor,
          outputs: t.accepted.outputs,
          backend: t.accepted.backend,
          computeMs: 0,
          audit: false,
          credited: true,
          told: true,
        });
        t.used.add(donor); // it holds a result: no second lease of this task
      }
    }
    t.target = Math.max(policy.replicas, validResults(t).length + 1);
    o.reopened();
    if (o.need(t) > 0) o.enqueue(t, true);
    if (!o.canGrow(t)) evaluate(t);
  };

  return {
    evaluate,
    accept,
    validResults,
    odds,
    reject: (t, r) => tell(t, r, false),
    starved: (t) => starved(t, validResults(t)),
    settle(t) {
      const results = validResults(t);
      if (results.length === 0) return false;
      const w = weigh(votes(results), how(t));
      if (!w.quorate || w.bound > target) return false;
      accept(t, w, results, "settled on its donors' later records");
      return true;
    },
    restored(t) {
      const bound = t.accepted?.bound;
      setFinal(t, typeof bound === 'number' ? bound : 1, false);
    },
    restoredApart(bound) {
      finalMax = Math.max(finalMax, bound);
    },
    achievedError() {
      let max = finalMax;
      for (const t of notFinal)
        if (t.state === 'verified' && t.accepted) max = Math.max(max, t.accepted.bound);
      return max;
    },
    unfinal() {
      for (const t of notFinal) if (t.state !== 'verified') notFinal.delete(t);
      return [...notFinal];
    },
    recheck(t, reason) {
      if (t.state !== 'verified' || !t.accepted) return;
      const acc = t.accepted;
      const backers = acc.backers.filter((b) => !book.isExcluded(b));
      if (backers.length === 0) return reopen(t, reason);
      const results = validResults(t);
      const w =
        results.length > 0
          ? weigh(votes(results), how(t))
          : weigh(
              backers.map((b) => ({ donor: b, outputs: acc.outputs, odds: odds(b) })),
              { ...how(t), quorum: 1, solo: true },
            );
      const same =
        results.length === 0 ||
        outputsMatch(results[w.winners[0]!]!.outputs, acc.outputs, policy.compare);
      if (!same || (w.bound > target && o.canGrow(t))) return reopen(t, reason);
      if (w.bound !== acc.bound) {
        t.accepted = { ...acc, bound: w.bound };
        changed.add(t);
      }
      setFinal(t, w.bound, true);
    },
    lateResult(t, r) {
      const acc = t.accepted!;
      if (outputsMatch(acc.outputs, r.outputs, policy.compare)) {
        credit(r, true);
        tell(t, r, true);
        t.accepted = { ...acc, backers: [...acc.backers, r.donor] };
        changed.add(t);
        return;
      }
      reopen(t, `contradicted by ${r.donor}`);
    },
    takeChanged() {
      const out = [...changed];
      changed.clear();
      return out;
    },
  };
}

/**
 * Verification, as the engine runs it: a task's results are weighed by
 * `decide` (verify.ts); an accepted result is stored, credited and told to
 * each lease (`lease-verdict`, winners and losers), a dispute grows or is
 * parked, and a result contradicting an accepted one re-opens it (or, when
 * the accepted one is firm, excludes its donor).
 */
import type { PeerId } from '../contracts.ts';
import type { TensorMap } from '../tensor.ts';
import { outputsMatch } from './compare.ts';
import type { EventLog } from './event-log.ts';
import type { LeaseLedger } from './lease-ledger.ts';
import type { ReputationBook } from './reputation.ts';
import type { ResultRt, TaskRt } from './runtime.ts';
import type { Policy } from './spec.ts';
import type { TaskMachine } from './task-machine.ts';
import type { ResultRecord } from './types.ts';
import { decide } from './verify.ts';

export interface Verification {
  /** Weighs a running task's results: accept, ask for more, or park/fail. */
  evaluate(t: TaskRt): void;
  accept(t: TaskRt, winners: ResultRt[], losers: ResultRt[], firm: boolean, note?: string): void;
  /** A result that came back for a task already verified (an audit or a late replica). */
  lateResult(t: TaskRt, r: ResultRt): void;
  /** Verified `t` is weighed again (a backer was excluded, or it was contradicted). */
  reopen(t: TaskRt, reason: string): void;
  /** Tells a result's lease it was rejected (its donor is excluded). */
  reject(t: TaskRt, r: ResultRt): void;
  /** Results of donors not excluded. */
  validResults(t: TaskRt): ResultRt[];
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
  readonly enqueue: (t: TaskRt, urgent: boolean) => void;
  readonly need: (t: TaskRt) => number;
  /** A result became known-good: it may seed audits. */
  readonly seed: (t: TaskRt, firm: boolean) => void;
  readonly park: (t: TaskRt, reason: string) => void;
  readonly exclude: (peer: PeerId, t: TaskRt, reason: string) => void;
  /** `t`'s accepted answer changed to `outputs`: donors excluded over the old one who gave it return. */
  readonly reinstate: (t: TaskRt, outputs: TensorMap) => void;
  /** A verified task was re-opened (the job, if completed, runs again). */
  readonly reopened: () => void;
  /** The job still runs (no re-opening after it failed or was cancelled). */
  readonly live: () => boolean;
}): Verification {
  const { policy, book, log, tasks } = o;
  const changed = new Set<TaskRt>();

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
  const credit = (r: ResultRt) => {
    if (r.credited) return;
    r.credited = true;
    book.agreed(r.donor, { spot: r.audit });
    book.credit(r.donor, r.computeMs);
  };
  const validResults = (t: TaskRt) => t.results.filter((r) => !book.isExcluded(r.donor));

  const accept = (
    t: TaskRt,
    winners: ResultRt[],
    losers: ResultRt[],
    firm: boolean,
    note?: string,
  ) => {
    const prev = t.accepted;
    const first = winners[0]!;
    t.accepted = {
      jobId: o.jobId,
      taskId: t.spec.id,
      outputs: first.outputs,
      backers: winners.map((w) => w.donor),
      firm,
      backend: first.backend,
      acceptedAt: o.now(),
    };
    for (const w of winners) {
      credit(w);
      tell(t, w, true);
    }
    for (const l of losers) {
      const outlier = book.disagreed(l.donor);
      tell(t, l, false);
      if (firm) o.exclude(l.donor, t, `outvoted by a verified result of task ${t.spec.id}`);
      else if (outlier) {
        o.exclude(l.donor, t, `outvoted repeatedly with no agreement, last on task ${t.spec.id}`);
      }
    }
    o.ledger.cancelTask(t, 'task verified', false);
    const backers = `${winners.length} backer(s)`;
    tasks.move(t, 'verified', {
      message: note ? `${backers}, ${note}` : backers,
      backers: winners.length,
    });
    changed.add(t);
    tasks.kept(t.spec.id);
    o.seed(t, firm);
    t.escalated = false;
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

  const evaluate = (t: TaskRt) => {
    const results = validResults(t);
    const d = decide(results, {
      rule: policy.compare,
      quorum: policy.quorum,
      maxReplicas: policy.maxReplicas,
      trusted: (p) => book.isTrusted(p),
      solo: t.solo,
    });
    if (d.kind === 'accept') {
      accept(
        t,
        d.winners.map((i) => results[i]!),
        d.losers.map((i) => results[i]!),
        d.firm,
      );
    } else if (d.kind === 'fail') {
      // Without a trusted donor the dispute may only reflect an unlucky draw of
      // liars (warm-up): park it until a trusted donor can break the tie.
      // A trusted donor that sides with no one else ends it (escalation comes to that).
      if (results.some((r) => book.isTrusted(r.donor))) tasks.fail(t, d.reason);
      else o.park(t, d.reason);
    } else {
      if (!t.preferTrusted && results.length > 1) log.emit('task-disputed', { taskId: t.spec.id });
      if (results.length > 0) t.preferTrusted = t.preferTrusted || results.length > 1;
      t.target = d.target;
      if (o.need(t) > 0) o.enqueue(t, true);
    }
  };

  const addBacker = (t: TaskRt, donor: PeerId) => {
    const a = t.accepted!;
    const backers = [...a.backers, donor];
    const firm = a.firm || backers.some((b) => book.isTrusted(b));
    t.accepted = { ...a, backers, firm } satisfies ResultRecord;
    if (firm && !a.firm) o.seed(t, true);
    changed.add(t);
  };

  const reopen = (t: TaskRt, reason: string) => {
    if (t.state !== 'verified' || !o.live()) return;
    tasks.move(t, 'running', { message: reason });
    t.solo = false;
    t.preferTrusted = true;
    o.reopened();
    evaluate(t);
  };

  return {
    evaluate,
    accept,
    reopen,
    validResults,
    reject: (t, r) => tell(t, r, false),
    lateResult(t, r) {
      const acc = t.accepted!;
      if (outputsMatch(acc.outputs, r.outputs, policy.compare)) {
        credit(r);
        tell(t, r, true);
        addBacker(t, r.donor);
        if (r.audit) log.emit('spot-passed', { taskId: t.spec.id, donor: r.donor });
        return;
      }
      tell(t, r, false);
      if (r.audit) log.emit('spot-failed', { taskId: t.spec.id, donor: r.donor });
      if (acc.firm) {
        book.disagreed(r.donor);
        o.exclude(r.donor, t, `contradicted the verified result of task ${t.spec.id}`);
      } else reopen(t, `contradicted by ${r.donor}`);
    },
    takeChanged() {
      const out = [...changed];
      changed.clear();
      return out;
    },
  };
}

/**
 * Tasks verification could not settle: a dispute still without a result
 * under the target error at `maxReplicas`, or one no donor on offer can add
 * to. Parked, such a task waits: for an anchor, whose result settles it; for
 * a donor to join that can add a result; or for its backers' records to
 * change (a loser elsewhere, a winner confirmed) so that a group meets the
 * target. It fails after `PARK_LIMIT` task deadlines without any of these.
 */
import type { Now } from '../platform.ts';
import type { ReputationBook } from './reputation.ts';
import type { ResultRt, TaskRt } from './runtime.ts';
import type { Policy } from './spec.ts';

/** A parked task fails after this many task deadlines. */
const PARK_LIMIT = 3;

export interface Disputes {
  /** Parks a task (once: the first reason and time stay). */
  park(t: TaskRt, reason: string): void;
  /** Parked tasks: escalate to an anchor, grow, settle on current records, or fail. */
  tick(): void;
  readonly size: number;
}

export function createDisputes(o: {
  readonly now: Now;
  readonly policy: Policy;
  readonly book: ReputationBook;
  readonly validResults: (t: TaskRt) => ResultRt[];
  readonly canGrow: (t: TaskRt) => boolean;
  readonly anchorFor: (t: TaskRt) => boolean;
  readonly enqueue: (t: TaskRt, urgent: boolean) => void;
  /** Weighs the task again; true when it was accepted. */
  readonly settle: (t: TaskRt) => boolean;
  readonly fail: (t: TaskRt, reason: string) => void;
}): Disputes {
  const { policy } = o;
  const parked = new Map<TaskRt, { since: number; reason: string }>();

  const more = (t: TaskRt) => {
    parked.delete(t);
    t.target = o.validResults(t).length + 1;
    o.enqueue(t, true);
  };

  return {
    park(t, reason) {
      if (!parked.has(t)) parked.set(t, { since: o.now(), reason });
    },
    tick() {
      for (const [t, p] of [...parked]) {
        if (t.state !== 'running') {
          parked.delete(t);
          continue;
        }
        if (!t.anchorOnly && o.anchorFor(t)) {
          t.anchorOnly = true; // an anchor's result settles it
          more(t);
        } else if (o.settle(t)) parked.delete(t);
        else if (o.validResults(t).length < policy.maxReplicas && o.canGrow(t)) more(t);
        else if (o.now() - p.since > PARK_LIMIT * policy.taskDeadlineMs) {
          parked.delete(t);
          o.fail(t, `${p.reason}; nothing settled it in ${PARK_LIMIT} task deadlines`);
        }
      }
    },
    get size() {
      return parked.size;
    },
  };
}

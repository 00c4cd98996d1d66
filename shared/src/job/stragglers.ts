/**
 * Stragglers finished by the fast, without robbing the slow. Once nothing is
 * left to place, each idle donor measured on the model may take a backup of
 * the lease that would gain most from it, of a task it holds nothing of,
 * when it would finish well before the straggler (`backupWithinMs` in
 * speed-placement.ts). One backup per lease; the straggler is not cancelled
 * when the task is verified (it runs on and counts as a late backer).
 */
import type { PeerId } from '../contracts.ts';
import type { Random } from '../platform.ts';
import type { LeaseLedger } from './lease-ledger.ts';
import type { ReputationBook } from './reputation.ts';
import type { DonorRt, Lease, TaskRt } from './runtime.ts';
import type { SpeedBook } from './speed-book.ts';
import { backupWithinMs, finishMs } from './speed-placement.ts';

export interface Stragglers {
  /** Issues the backups that pay now (call when nothing is left to place). */
  backUp(): void;
}

export function createStragglers(o: {
  readonly now: () => number;
  readonly random: Random;
  readonly book: ReputationBook;
  readonly donors: ReadonlyMap<PeerId, DonorRt>;
  readonly ledger: LeaseLedger;
  readonly speeds: SpeedBook;
  /** `d` may hold a lease of `t` (capacity aside). */
  readonly eligible: (t: TaskRt, d: DonorRt) => boolean;
  /** Issues a backup lease of `t` on `d`. */
  readonly backUp: (t: TaskRt, d: DonorRt) => void;
}): Stragglers {
  const finishOn = (d: DonorRt, model: string) =>
    finishMs({
      inFlight: d.inFlight,
      slots: d.slots,
      runs: d.runs,
      taskMs: o.speeds.taskMs(d.id, model),
    });
  /** Backups are looked for again from then (engine clock): each look walks every lease. */
  let next = Number.NEGATIVE_INFINITY;
  return {
    backUp() {
      const now = o.now();
      if (now < next) return;
      const idle: DonorRt[] = [];
      for (const d of o.donors.values())
        if (d.inFlight < d.slots && !o.book.isExcluded(d.id)) idle.push(d);
      if (idle.length === 0) return;
      const open: { l: Lease; within: number }[] = [];
      for (const l of o.ledger.all()) {
        if (!l.backup && !l.backedUp && l.task.state === 'running')
          open.push({ l, within: backupWithinMs(l, now) });
      }
      if (open.length === 0) return;
      // The most to gain first: a donor that cannot beat one cannot beat those after it.
      open.sort((a, b) => b.within - a.within);
      // Until half the soonest an idle donor could finish, no lease gains enough to change the answer.
      let soonest = Number.POSITIVE_INFINITY;
      const model = open[0]!.l.task.spec.model;
      for (const d of idle) soonest = Math.min(soonest, finishOn(d, model));
      next = now + Math.max(1, soonest / 2);
      // Idle donors in a random order: which straggler a donor backs up is not its choice.
      for (let i = idle.length - 1; i > 0; i--) {
        const j = Math.floor(o.random() * (i + 1));
        [idle[i], idle[j]] = [idle[j]!, idle[i]!];
      }
      for (const d of idle) {
        for (const { l, within } of open) {
          if (l.backedUp) continue;
          const m = l.task.spec.model;
          if (finishOn(d, m) >= within) break;
          if (!o.speeds.measured(d.id, m) || !o.eligible(l.task, d)) continue;
          l.backedUp = true;
          o.backUp(l.task, d);
          break;
        }
      }
    },
  };
}

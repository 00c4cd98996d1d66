/**
 * Derives per-lease verdicts from a job engine's event stream, for the
 * runner to send to donors (`verdict` messages). The engine is not asked:
 *
 * - `lease-reported` (lease, task, donor) claims the outputs and computeMs the
 *   runner saw for that lease; the report waits on its task.
 * - `task-verified`: each waiting report is `accepted` (credit = its computeMs)
 *   when it matches the accepted outputs under the job's compare rule and its
 *   donor is not excluded, else `rejected`. A task re-opened in the same batch
 *   (no accepted outputs) keeps its reports waiting.
 * - `spot-passed` / `spot-failed` (task, donor): a report on an already
 *   verified task is `accepted` / `rejected`.
 * - A report by an excluded donor is ignored by the engine: `rejected` at once.
 * - `task-failed` drops the task's reports without a verdict (nothing accepted).
 *
 * With a tolerance rule, matching the accepted outputs is how the engine
 * groups votes with the first winner; a vote grouped otherwise is rare and
 * gets the verdict of its match. Needs the engine's events (`recordEvents`).
 */
import type { PeerId } from '../contracts.ts';
import { outputsMatch } from '../job/compare.ts';
import type { CompareRule } from '../job/spec.ts';
import type { JobEvent } from '../job/types.ts';
import { PEER_MESSAGE_LIMITS, type VerdictMessage } from '../peer/messages.ts';
import type { TensorMap } from '../tensor.ts';

export interface VerdictTrackerOptions {
  readonly jobId: string;
  readonly compare: CompareRule;
  /** Accepted outputs of a verified task (`engine.result`). */
  readonly accepted: (taskId: string) => TensorMap | undefined;
  /**
   * Exclusions this engine's events did not announce (earlier sessions, other
   * jobs on the same reputation book). Default: none.
   */
  readonly isExcluded?: (donor: PeerId) => boolean;
  /** Delivers a verdict to the donor (best effort). */
  readonly send: (donor: PeerId, msg: VerdictMessage) => void;
}

export interface VerdictTracker {
  /** A donor's result, before it goes into the engine. */
  reported(leaseId: string, donor: PeerId, outputs: TensorMap, computeMs: number): void;
  /** Every engine event, in order. */
  event(ev: JobEvent): void;
  /** After the events of one batch of inputs: drops results the engine ignored (late, unknown). */
  endBatch(): void;
  /** Forgets everything (the job ended or stopped). */
  close(): void;
}

interface Report {
  readonly leaseId: string;
  readonly donor: PeerId;
  readonly outputs: TensorMap;
  readonly computeMs: number;
}

export function createVerdictTracker(o: VerdictTrackerOptions): VerdictTracker {
  /** Results not yet claimed by a `lease-reported` event, by lease. */
  const fresh = new Map<string, Report>();
  /** Claimed results waiting for their task's verdict, by task. */
  const waiting = new Map<string, Report[]>();
  /** Exclusion as this engine's events announced it, by donor. */
  const announced = new Map<PeerId, boolean>();
  const isExcluded = (d: PeerId) => announced.get(d) ?? o.isExcluded?.(d) ?? false;

  const send = (taskId: string, r: Report, accepted: boolean) =>
    o.send(r.donor, {
      type: 'verdict',
      leaseId: r.leaseId,
      jobId: o.jobId,
      taskId,
      verdict: accepted ? 'accepted' : 'rejected',
      creditMs: accepted ? Math.min(r.computeMs, PEER_MESSAGE_LIMITS.maxVerdictCreditMs) : 0,
    });

  /** Removes and returns the waiting report of `donor` on `taskId`. */
  const take = (taskId: string, donor: PeerId | undefined): Report | undefined => {
    const list = waiting.get(taskId);
    const i = list ? list.findIndex((r) => r.donor === donor) : -1;
    if (!list || i < 0) return undefined;
    const [r] = list.splice(i, 1);
    if (list.length === 0) waiting.delete(taskId);
    return r;
  };

  return {
    reported(leaseId, donor, outputs, computeMs) {
      fresh.set(leaseId, { leaseId, donor, outputs, computeMs });
    },
    event(ev) {
      const taskId = ev.taskId;
      switch (ev.type) {
        case 'lease-reported': {
          const r = ev.leaseId === undefined ? undefined : fresh.get(ev.leaseId);
          if (!r || taskId === undefined) return;
          fresh.delete(r.leaseId);
          if (isExcluded(r.donor)) send(taskId, r, false);
          else waiting.set(taskId, [...(waiting.get(taskId) ?? []), r]);
          return;
        }
        case 'task-verified': {
          const acc = taskId === undefined ? undefined : o.accepted(taskId);
          if (!acc || taskId === undefined) return;
          const list = waiting.get(taskId) ?? [];
          waiting.delete(taskId);
          for (const r of list) {
            send(taskId, r, !isExcluded(r.donor) && outputsMatch(r.outputs, acc, o.compare));
          }
          return;
        }
        case 'spot-passed':
        case 'spot-failed': {
          const r = taskId === undefined ? undefined : take(taskId, ev.donor);
          if (r && taskId !== undefined) send(taskId, r, ev.type === 'spot-passed');
          return;
        }
        case 'task-failed':
          if (taskId !== undefined) waiting.delete(taskId);
          return;
        case 'donor-excluded':
          if (ev.donor !== undefined) announced.set(ev.donor, true);
          return;
        case 'donor-reinstated':
          if (ev.donor !== undefined) announced.set(ev.donor, false);
          return;
        default:
          return;
      }
    },
    endBatch() {
      fresh.clear();
    },
    close() {
      fresh.clear();
      waiting.clear();
    },
  };
}

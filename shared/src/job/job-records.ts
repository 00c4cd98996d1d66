/**
 * The job engine's outward views: progress (its counters fold the event
 * log), the store's deltas and snapshots.
 */
import type { PeerId } from '../contracts.ts';
import type { Now } from '../platform.ts';
import type { EventLog } from './event-log.ts';
import type { LeaseLedger } from './lease-ledger.ts';
import type { ReputationBook } from './reputation.ts';
import type { DonorRt, TaskRt } from './runtime.ts';
import type { JobState } from './state.ts';
import type { TaskMachine } from './task-machine.ts';
import type {
  EngineDelta,
  EngineSnapshot,
  JobProgress,
  JobRecordState,
  TaskRecord,
} from './types.ts';

export interface JobRecords {
  progress(): JobProgress;
  takeDelta(): EngineDelta;
  snapshot(): EngineSnapshot;
}

export function createJobRecords(o: {
  readonly jobId: string;
  readonly now: Now;
  readonly book: ReputationBook;
  readonly log: EventLog;
  readonly ledger: LeaseLedger;
  readonly tasks: readonly TaskRt[];
  readonly machine: TaskMachine;
  readonly donors: ReadonlyMap<PeerId, DonorRt>;
  readonly jobState: () => JobState;
  /** Accepted results changed since the last call. */
  readonly takeChangedResults: () => TaskRt[];
}): JobRecords {
  const { jobId, book, log, machine } = o;
  const c = { results: 0, auditsIssued: 0, auditsPassed: 0, auditsFailed: 0 };
  const more = { disputes: 0, reopened: 0, solo: 0 };
  log.onEvent((type, e) => {
    if (type === 'lease-reported') c.results++;
    else if (type === 'lease-issued' && e.message === 'audit') c.auditsIssued++;
    else if (type === 'spot-passed') c.auditsPassed++;
    else if (type === 'spot-failed') c.auditsFailed++;
    else if (type === 'task-disputed') more.disputes++;
    else if (type === 'task-reopened') more.reopened++;
    else if (type === 'task-verified' && e.backers === 1) more.solo++;
  });

  const taskRecord = (t: TaskRt): TaskRecord => ({
    jobId,
    taskId: t.spec.id,
    state: t.state,
    attempts: t.attempts,
    ...(t.failReason ? { failReason: t.failReason } : {}),
  });
  const jobRecord = (): JobRecordState => ({
    jobId,
    state: o.jobState(),
    seq: log.seq(),
    updatedAt: o.now(),
  });

  return {
    progress: () => ({
      jobId,
      state: o.jobState(),
      total: o.tasks.length,
      tasks: { ...machine.counts },
      leasesInFlight: o.ledger.size,
      resultsReceived: c.results,
      spotChecks: { issued: c.auditsIssued, passed: c.auditsPassed, failed: c.auditsFailed },
      disputes: more.disputes,
      reopened: more.reopened,
      soloAccepted: more.solo,
      failed: [...machine.failed],
      donors: [...o.donors.values()].map((d) => ({
        id: d.id,
        backend: d.backend,
        inFlight: d.inFlight,
        reported: d.reported,
        trusted: book.isTrusted(d.id),
        excluded: book.isExcluded(d.id),
        creditMs: book.get(d.id).creditMs,
      })),
    }),
    takeDelta(): EngineDelta {
      return {
        job: jobRecord(),
        tasks: machine.takeDirty().map(taskRecord),
        results: o
          .takeChangedResults()
          .filter((t) => t.state === 'verified')
          .map((t) => t.accepted!),
        removedResults: machine.takeRemoved(),
        events: log.takeForStore(),
      };
    },
    snapshot: () => ({
      job: jobRecord(),
      tasks: o.tasks.map(taskRecord),
      results: o.tasks.flatMap((t) => (t.state === 'verified' && t.accepted ? [t.accepted] : [])),
    }),
  };
}

/**
 * The job engine's outward views: progress (its counters fold the event
 * log), the store's deltas and snapshots.
 */
import type { PeerId } from '../contracts.ts';
import type { Now } from '../platform.ts';
import type { EventLog } from './event-log.ts';
import type { LeaseLedger } from './lease-ledger.ts';
import type { DonorRt, TaskRt } from './runtime.ts';
import type { Policy } from './spec.ts';
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
  readonly policy: Policy;
  readonly log: EventLog;
  readonly ledger: LeaseLedger;
  /** Tasks in all. */
  readonly count: number;
  /** Tasks in memory. */
  readonly resident: () => Iterable<TaskRt>;
  /** Verified tasks kept in the store only. */
  readonly retired: () => number;
  readonly machine: TaskMachine;
  readonly donors: ReadonlyMap<PeerId, DonorRt>;
  readonly jobState: () => JobState;
  /** What the job knows of a donor's standing. */
  readonly donorStats: (d: DonorRt) => {
    trusted: boolean;
    excluded: boolean;
    audited: number;
    creditMs: number;
  };
  /** Anchors on offer. */
  readonly anchors: () => PeerId[];
  /** Verified tasks short of the target error. */
  readonly unfinal: () => number;
  /** See `Verification.achievedError`. */
  readonly achievedError: () => number;
  readonly excluded: () => readonly { readonly donor: PeerId; readonly reason: string }[];
  /** Accepted results changed since the last call. */
  readonly takeChangedResults: () => TaskRt[];
}): JobRecords {
  const { jobId, log, machine } = o;
  const c = { results: 0, auditsIssued: 0, auditsPassed: 0, auditsFailed: 0 };
  const more = { disputes: 0, reopened: 0, solo: 0, anchorResults: 0 };
  const anchorSeen = new Set<PeerId>();
  log.onEvent((type, e) => {
    if (type === 'lease-reported') {
      c.results++;
      if (e.donor !== undefined && anchorSeen.has(e.donor)) more.anchorResults++;
    } else if (type === 'lease-issued') {
      if (e.audit) c.auditsIssued++;
      if (e.donor !== undefined && o.donors.get(e.donor)?.anchor) anchorSeen.add(e.donor);
    } else if (type === 'audit-passed') c.auditsPassed++;
    else if (type === 'audit-failed') c.auditsFailed++;
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
      total: o.count,
      tasks: { ...machine.counts },
      retired: o.retired(),
      leasesInFlight: o.ledger.size,
      resultsReceived: c.results,
      audits: { issued: c.auditsIssued, passed: c.auditsPassed, failed: c.auditsFailed },
      targetError: o.policy.targetError,
      achievedError: o.achievedError(),
      final: machine.counts.verified - o.unfinal(),
      anchors: { donors: o.anchors(), results: more.anchorResults },
      excluded: [...o.excluded()],
      disputes: more.disputes,
      reopened: more.reopened,
      soloAccepted: more.solo,
      failed: [...machine.failed],
      donors: [...o.donors.values()].map((d) => ({
        id: d.id,
        backend: d.backend,
        inFlight: d.inFlight,
        reported: d.reported,
        anchor: d.anchor,
        ...o.donorStats(d),
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
    // Resident tasks only: a retired task's records are in the store.
    snapshot: () => {
      const resident = [...o.resident()];
      return {
        job: jobRecord(),
        tasks: resident.map(taskRecord),
        results: resident.flatMap((t) =>
          t.state === 'verified' && t.accepted ? [t.accepted] : [],
        ),
      };
    },
  };
}

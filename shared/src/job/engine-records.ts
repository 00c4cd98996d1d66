/** The job engine's outward views: progress, store deltas and snapshots. */
import type { Now } from '../platform.ts';
import type { EngineState, TaskRt } from './engine-types.ts';
import type { ReputationBook } from './reputation.ts';
import type {
  EngineDelta,
  EngineSnapshot,
  JobProgress,
  JobRecordState,
  TaskRecord,
} from './types.ts';

export interface RecordsContext {
  readonly o: { readonly now: Now };
  readonly jobId: string;
  readonly book: ReputationBook;
  readonly st: EngineState;
  readonly tasks: readonly TaskRt[];
  readonly dirtyTasks: Set<TaskRt>;
  readonly dirtyResults: Set<TaskRt>;
  readonly removed: Set<string>;
}

export function createRecords(c: RecordsContext) {
  const { o, jobId, book, st, tasks, dirtyTasks, dirtyResults, removed } = c;
  const taskRecord = (t: TaskRt): TaskRecord => ({
    jobId,
    taskId: t.spec.id,
    state: t.state,
    attempts: t.attempts,
    ...(t.failReason ? { failReason: t.failReason } : {}),
  });
  const jobRecord = (): JobRecordState => ({
    jobId,
    state: st.state,
    seq: st.seq,
    updatedAt: o.now(),
  });

  return {
    progress(): JobProgress {
      return {
        jobId,
        state: st.state,
        total: tasks.length,
        tasks: { ...st.counts },
        leasesInFlight: st.leases.size,
        resultsReceived: st.resultsReceived,
        spotChecks: { ...st.spot },
        disputes: st.disputes,
        reopened: st.reopened,
        soloAccepted: st.soloAccepted,
        failed: [...st.failed],
        donors: [...st.donors.values()].map((d) => ({
          id: d.id,
          backend: d.backend,
          inFlight: d.inFlight,
          reported: d.reported,
          trusted: book.isTrusted(d.id),
          excluded: book.isExcluded(d.id),
          creditMs: book.get(d.id).creditMs,
        })),
      };
    },
    takeDelta(): EngineDelta {
      const delta: EngineDelta = {
        job: jobRecord(),
        tasks: [...dirtyTasks].map(taskRecord),
        results: [...dirtyResults].filter((t) => t.state === 'verified').map((t) => t.accepted!),
        removedResults: [...removed],
        events: st.deltaEvents.splice(0),
      };
      dirtyTasks.clear();
      dirtyResults.clear();
      removed.clear();
      return delta;
    },
    snapshot(): EngineSnapshot {
      return {
        job: jobRecord(),
        tasks: tasks.map(taskRecord),
        results: tasks.flatMap((t) => (t.state === 'verified' && t.accepted ? [t.accepted] : [])),
      };
    },
  };
}

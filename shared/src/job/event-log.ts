/**
 * A job's ordered event log: the one record of what the engine decided.
 * Progress counters, the store's delta and every view are folds of it.
 * Folds (`onEvent`) hear every event even when the log keeps none
 * (`record: false`, large simulations).
 */
import type { Now } from '../platform.ts';
import type { JobEvent, JobEventType } from './types.ts';

/** Unread events `take` keeps. */
const EVENT_BACKLOG = 10_000;

/** An event's fields, without the ones the log stamps. */
export type EventFields = Omit<JobEvent, 'jobId' | 'seq' | 'at' | 'type'>;

export interface EventLog {
  emit(type: JobEventType, fields?: EventFields): void;
  /** Adds a fold that hears every event, in order. */
  onEvent(fold: (type: JobEventType, fields: EventFields) => void): void;
  /** Events since the last call (the live view; at most the backlog). */
  take(): JobEvent[];
  /** Events since the last call, for the store (drops nothing). */
  takeForStore(): JobEvent[];
  /** Last seq emitted. */
  seq(): number;
  /** Resumes numbering after a restored log. */
  resumeAt(seq: number): void;
}

export function createEventLog(o: {
  readonly jobId: string;
  readonly now: Now;
  readonly record: boolean;
}): EventLog {
  let seq = 0;
  const live: JobEvent[] = [];
  const forStore: JobEvent[] = [];
  const folds: ((type: JobEventType, fields: EventFields) => void)[] = [];
  return {
    emit(type, fields = {}) {
      seq++;
      for (const f of folds) f(type, fields);
      if (!o.record) return;
      const ev: JobEvent = { jobId: o.jobId, seq, at: o.now(), type, ...fields };
      live.push(ev);
      forStore.push(ev);
      // The live view drops unread entries beyond the backlog; the store's copy drops nothing.
      if (live.length > EVENT_BACKLOG) live.splice(0, live.length - EVENT_BACKLOG);
    },
    onEvent: (fold) => void folds.push(fold),
    take: () => live.splice(0),
    takeForStore: () => forStore.splice(0),
    seq: () => seq,
    resumeAt(s) {
      seq = Math.max(seq, s);
    },
  };
}

import type { JobEvent, TaskState } from '@peergrid/shared';

/**
 * Follows a task's state through the engine's event log, for the live task
 * grid: every task transition is an event carrying the new state, so the
 * view folds it and decides nothing itself.
 */
export function applyTaskEvent(states: Map<string, TaskState>, e: JobEvent): void {
  if (e.taskId !== undefined && e.state !== undefined) states.set(e.taskId, e.state);
}

/** Tasks whose latest told state a job host keeps. Default 2,000. */
export const TASK_WINDOW = 2_000;

/**
 * The states of the tasks that changed most recently, as the runner told
 * them (after their commit): at most `limit` of them, the oldest change
 * dropped first, so a job of a million tasks costs the page as much as one
 * of `limit`. A job of at most `limit` tasks has every changed task here.
 * Tasks not here are read from the engine (`JobHandle.taskState`).
 */
export interface TaskWindow {
  /** Folds one event (a task transition moves the task to the newest end). */
  apply(e: JobEvent): void;
  /** The told state of a task still in the window. */
  get(taskId: string): TaskState | undefined;
  /** Sets a held task's state where it is (a resume: what the engine restored wins over old events). */
  correct(taskId: string, state: TaskState): void;
  /** Tasks held now (≤ `limit`). */
  readonly size: number;
  readonly limit: number;
  /** Held tasks, the least recently changed first. */
  entries(): IterableIterator<[string, TaskState]>;
}

export function createTaskWindow(limit = TASK_WINDOW): TaskWindow {
  if (!(Number.isInteger(limit) && limit >= 1))
    throw new RangeError(`task window: limit must be a positive integer, got ${limit}`);
  const states = new Map<string, TaskState>();
  return {
    apply(e) {
      if (e.taskId === undefined || e.state === undefined) return;
      states.delete(e.taskId); // re-inserted at the newest end
      states.set(e.taskId, e.state);
      if (states.size > limit) {
        const oldest = states.keys().next().value;
        if (oldest !== undefined) states.delete(oldest);
      }
    },
    get: (id) => states.get(id),
    correct(id, state) {
      if (states.has(id)) states.set(id, state);
    },
    get size() {
      return states.size;
    },
    limit,
    entries: () => states.entries(),
  };
}

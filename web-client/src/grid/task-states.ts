import type { JobEvent, TaskState } from '@peergrid/shared';

/**
 * Follows a task's state through the engine's event log, for the live task
 * grid: every task transition is an event carrying the new state, so the
 * view folds it and decides nothing itself.
 */
export function applyTaskEvent(states: Map<string, TaskState>, e: JobEvent): void {
  if (e.taskId !== undefined && e.state !== undefined) states.set(e.taskId, e.state);
}

import type { JobEvent, TaskState } from '@peergrid/shared';

/**
 * Follows a task's state through the engine's event log, for the live task
 * grid (the shared job runner hands the page events, not deltas).
 */
export function applyTaskEvent(states: Map<string, TaskState>, e: JobEvent): void {
  const id = e.taskId;
  if (!id) return;
  const was = states.get(id);
  switch (e.type) {
    case 'task-ready':
      if (was !== 'verified' && was !== 'failed') states.set(id, 'ready');
      return;
    case 'lease-issued':
    case 'task-disputed':
    case 'task-reopened':
      if (was !== 'verified' && was !== 'failed') states.set(id, 'running');
      if (e.type === 'task-reopened') states.set(id, 'running');
      return;
    case 'task-verified':
      states.set(id, 'verified');
      return;
    case 'task-failed':
      states.set(id, 'failed');
      return;
    default:
      return;
  }
}

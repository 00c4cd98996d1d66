import type { JobState } from '@peergrid/shared';

const TONE: Record<JobState, string> = {
  pending: '',
  running: 'accent',
  completed: 'ok',
  failed: 'bad',
  cancelled: 'warn',
};

export function JobStateBadge({ state, testId }: { state: JobState; testId?: string }) {
  return (
    <span className={`badge ${TONE[state]}`} data-testid={testId} data-state={state}>
      {state}
    </span>
  );
}

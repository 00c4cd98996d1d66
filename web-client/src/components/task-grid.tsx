import type { TaskState } from '@peergrid/shared';
import type { TaskCell } from '../state/types.ts';

const LEGEND = [
  ['blocked', 'waiting for inputs', 'var(--idle)'],
  ['ready', 'ready', 'var(--accent-soft)'],
  ['running', 'running', 'var(--warn)'],
  ['verified', 'verified', 'var(--ok)'],
  ['failed', 'failed', 'var(--bad)'],
] as const;

/**
 * The task grid: one cell per task for a whole job; for a large one, the
 * tasks that changed last (a bounded window) under counts of every state.
 */
export function TaskGrid({
  tasks,
  all = true,
  counts,
}: {
  tasks: readonly TaskCell[];
  /** `tasks` is every task of the job. Default true. */
  all?: boolean;
  /** Tasks per state over the whole job (shown in the legend). */
  counts?: Readonly<Record<TaskState, number>>;
}) {
  return (
    <div className="stack">
      {!all && (
        <p className="muted small" data-testid="task-window">
          The {tasks.length.toLocaleString()} tasks that changed last, in the job's order; the
          counts below cover every task.
        </p>
      )}
      <div className="cells" data-testid="task-grid" data-all={all ? 'true' : 'false'}>
        {tasks.map((t) => (
          <div
            key={t.id}
            className="cell"
            data-testid="task-cell"
            data-state={t.state}
            title={`${t.id}: ${t.state}, ${t.leases} lease${t.leases === 1 ? '' : 's'}`}
          />
        ))}
      </div>
      <div className="legend">
        {LEGEND.map(([state, text, color]) => (
          <span key={state} data-testid="task-count" data-state={state}>
            <i style={{ background: color }} />
            {text}
            {counts ? ` · ${counts[state].toLocaleString()}` : ''}
          </span>
        ))}
      </div>
    </div>
  );
}

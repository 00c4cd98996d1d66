import type { TaskCell } from '../state/types.ts';

const LEGEND = [
  ['blocked', 'waiting for inputs', 'var(--idle)'],
  ['ready', 'ready', 'var(--accent-soft)'],
  ['running', 'running', 'var(--warn)'],
  ['verified', 'verified', 'var(--ok)'],
  ['failed', 'failed', 'var(--bad)'],
] as const;

export function TaskGrid({ tasks }: { tasks: readonly TaskCell[] }) {
  return (
    <div className="stack">
      <div className="cells" data-testid="task-grid">
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
          <span key={state}>
            <i style={{ background: color }} />
            {text}
          </span>
        ))}
      </div>
    </div>
  );
}

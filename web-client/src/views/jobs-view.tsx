import { JobStateBadge } from '../components/job-state-badge.tsx';
import { formatTime } from '../lib/format.ts';
import { routeHash } from '../lib/route.ts';
import { useStore } from '../state/hooks.ts';
import type { PageRuntime } from '../state/runtime.ts';

export function JobsView({ runtime }: { runtime: PageRuntime }) {
  const jobs = useStore(runtime.jobs);
  return (
    <section className="panel">
      <div className="spread" style={{ marginBottom: 12 }}>
        <div>
          <h1>Jobs</h1>
          <p className="muted">
            Jobs this browser submitted. They live in this browser's storage and resume after a
            reload.
          </p>
        </div>
        <a className="btn primary" href={routeHash({ view: 'submit' })} data-testid="new-job">
          New job
        </a>
      </div>
      {jobs.length === 0 ? (
        <p className="empty" data-testid="job-list-empty">
          No jobs yet. Submit one to see it here.
        </p>
      ) : (
        <div className="table-wrap">
          <table data-testid="job-list">
            <thead>
              <tr>
                <th>Job</th>
                <th>State</th>
                <th>Progress</th>
                <th className="hide-sm">Started</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((j) => (
                <tr
                  key={j.id}
                  className="clickable"
                  data-testid="job-row"
                  data-job-id={j.id}
                  data-state={j.state}
                  onClick={() => {
                    window.location.hash = routeHash({ view: 'job', id: j.id });
                  }}
                >
                  <td>
                    <a href={routeHash({ view: 'job', id: j.id })}>{j.name}</a>
                    <div className="muted small mono">{j.id.slice(0, 12)}</div>
                  </td>
                  <td>
                    <JobStateBadge state={j.state} />
                  </td>
                  <td style={{ minWidth: 120 }}>
                    <div className="progress" title={`${j.verified} of ${j.total} tasks verified`}>
                      <span
                        style={{
                          width: `${(j.verified / Math.max(1, j.total)) * 100}%`,
                          background: 'var(--ok)',
                        }}
                      />
                      <span
                        style={{
                          width: `${(j.failed / Math.max(1, j.total)) * 100}%`,
                          background: 'var(--bad)',
                        }}
                      />
                    </div>
                    <div className="muted small">
                      {j.verified} / {j.total}
                    </div>
                  </td>
                  <td className="hide-sm muted">{formatTime(j.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

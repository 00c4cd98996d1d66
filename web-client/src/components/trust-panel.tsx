import { formatBound, shortId } from '../lib/format.ts';
import type { JobDetail } from '../state/types.ts';
import { Stat } from './stat.tsx';

/** How far a job's results can be trusted: error bounds, audits, anchors, exclusions. */
export function TrustPanel({ job }: { job: JobDetail }) {
  const a = job.audits;
  return (
    <section className="panel" data-testid="trust-panel">
      <h2>Trust</h2>
      <div className="stats">
        <Stat
          label="Final results"
          value={<span data-testid="results-final">{job.final}</span>}
          hint={`of ${job.total}: error bound under the target`}
        />
        <Stat
          label="Error bound"
          value={
            <span data-testid="achieved-error">
              {job.achievedError === null ? '—' : formatBound(job.achievedError)}
            </span>
          }
          hint={
            <span>
              worst accepted result · target{' '}
              <span data-testid="target-error">{formatBound(job.targetError)}</span>
            </span>
          }
        />
        <Stat
          label="Audits"
          value={<span data-testid="audits-issued">{a.issued}</span>}
          hint={
            <span>
              <span data-testid="audits-passed">{a.passed}</span> passed ·{' '}
              <span data-testid="audits-failed">{a.failed}</span> failed
            </span>
          }
        />
        <Stat
          label="Anchors"
          value={<span data-testid="anchor-count">{job.anchors.length}</span>}
          hint={`${job.anchors.reduce((s, x) => s + x.results, 0)} results, right by construction`}
        />
      </div>
      <div className="grid-2" style={{ marginTop: 12 }}>
        <div>
          <h3>Anchors</h3>
          {job.anchors.length === 0 ? (
            <p className="muted small">None on offer: every result rests on agreeing donors.</p>
          ) : (
            <ul className="plain small" data-testid="anchor-list">
              {job.anchors.map((x) => (
                <li key={x.id} data-testid="anchor-row" data-peer={x.id} data-results={x.results}>
                  <code title={x.id}>{shortId(x.id)}</code>: {x.results} result
                  {x.results === 1 ? '' : 's'}
                </li>
              ))}
            </ul>
          )}
        </div>
        <div>
          <h3>Excluded donors</h3>
          {job.excludedDonors.length === 0 ? (
            <p className="muted small">None.</p>
          ) : (
            <ul className="plain small" data-testid="excluded-list">
              {job.excludedDonors.map((x) => (
                <li key={x.donor} data-testid="excluded-row" data-peer={x.donor}>
                  <code title={x.donor}>{shortId(x.donor)}</code>: {x.reason}
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>
    </section>
  );
}

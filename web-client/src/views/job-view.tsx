import { useEffect, useState } from 'react';
import { JobStateBadge } from '../components/job-state-badge.tsx';
import { Results } from '../components/results.tsx';
import { Stat } from '../components/stat.tsx';
import { TaskGrid } from '../components/task-grid.tsx';
import { ThroughputChart } from '../components/throughput-chart.tsx';
import { TrustPanel } from '../components/trust-panel.tsx';
import { download, downloadBlob } from '../lib/download.ts';
import { outputNames, resultsCsv, resultsJson, stackOutputs } from '../lib/export.ts';
import { formatBound, formatMs, formatPercent, formatTime, shortId } from '../lib/format.ts';
import { encodeNpy } from '../lib/npy.ts';
import { routeHash } from '../lib/route.ts';
import { useStore } from '../state/hooks.ts';
import { type JobResults, type PageRuntime, RESULTS_PAGE } from '../state/runtime.ts';
import type { JobDetail } from '../state/types.ts';

/** Entries an .npz may hold: fflate's zip, without ZIP64. */
const NPZ_MAX_ENTRIES = 65_535;

/** Newest events drawn in the event log (the job detail keeps more). Default 100. */
export const EVENT_LOG_ROWS = 100;

function compareText(d: JobDetail): string {
  const c = d.policy.compare;
  if (c.kind === 'exact') return 'exact bytes';
  if (c.kind === 'argmax') return `same label (argmax, axis ${c.axis})`;
  return `within ${c.abs} abs / ${c.rel} rel`;
}

export function JobView({ runtime, id }: { runtime: PageRuntime; id: string }) {
  const store = runtime.jobDetail(id);
  const job = useStore(store);
  const ready = useStore(runtime.jobsReady);
  const [results, setResults] = useState<JobResults | null>(null);
  const [offset, setOffset] = useState(0);
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const verified = job?.verified ?? 0;
  // `verified` is a dependency on purpose: results are re-read as more tasks are verified
  // (a page of a large job whose tasks all have outputs is not read again).
  useEffect(() => {
    let live = true;
    const whole =
      results !== null &&
      results.offset === offset &&
      results.total > results.tasks.length &&
      results.tasks.every((t) => t.outputs);
    if (!whole)
      void runtime.jobResults(id, { offset, limit: RESULTS_PAGE }).then((r) => {
        if (live) setResults(r);
      });
    return () => {
      live = false;
    };
  }, [runtime, id, verified, offset]);

  if (!job && !ready) {
    return (
      <section className="panel" data-testid="job-view" data-state="loading">
        <p className="muted">Loading the job from this browser's storage…</p>
      </section>
    );
  }
  if (!job) {
    return (
      <section className="panel" data-testid="job-view" data-state="unknown">
        <h1>Job not found</h1>
        <p className="muted">
          No job <code className="break">{id}</code> in this browser.{' '}
          <a href={routeHash({ view: 'jobs' })}>All jobs</a>
        </p>
      </section>
    );
  }
  const running = job.taskCounts.running;
  const outputs = results ? outputNames(results) : [];
  // A page of a larger job: files that hold every task in memory are not offered (NPZ streams).
  const paged = results !== null && results.total > results.tasks.length;
  const pagedHint = paged
    ? `This job has ${results.total.toLocaleString()} tasks: download them as NPZ or NPY`
    : undefined;
  const npzTooMany = job.verified * Math.max(1, outputs.length) > NPZ_MAX_ENTRIES;
  const finished = job.state === 'completed' || job.state === 'failed' || job.state === 'cancelled';
  return (
    <>
      <section className="panel" data-testid="job-view" data-job-id={job.id} data-state={job.state}>
        <div className="spread">
          <div className="stack" style={{ gap: 4 }}>
            <a className="small" href={routeHash({ view: 'jobs' })}>
              ← All jobs
            </a>
            <h1>{job.name}</h1>
            <div className="row small muted">
              <JobStateBadge state={job.state} testId="job-state" />
              <code title={job.id}>{shortId(job.id)}</code>
              <span>started {formatTime(job.createdAt)}</span>
            </div>
          </div>
          {!finished && (
            <button
              type="button"
              className="btn"
              data-testid="cancel-job"
              onClick={() => void runtime.cancelJob(job.id)}
            >
              Cancel job
            </button>
          )}
        </div>
        {job.error && (
          <div className="alert bad" style={{ marginTop: 12 }} data-testid="job-error">
            {job.error}
          </div>
        )}
        <div className="stats" style={{ marginTop: 16 }}>
          <Stat
            label="Verified"
            value={<span data-testid="tasks-verified">{job.verified}</span>}
            hint={
              <span>
                of <span data-testid="tasks-total">{job.total}</span> tasks ·{' '}
                {formatPercent(job.verified, job.total)}
              </span>
            }
          />
          <Stat
            label="Running"
            value={running}
            testId="tasks-running"
            hint={`${job.failed} failed`}
          />
          <Stat
            label="Agreements"
            value={job.agreements}
            testId="verify-agreements"
            hint={`rule: ${compareText(job)}`}
          />
          <Stat
            label="Disagreements"
            value={job.disagreements}
            testId="verify-disagreements"
            hint={
              <span>
                <span data-testid="verify-excluded">{job.excluded}</span> donors excluded
              </span>
            }
          />
        </div>
      </section>

      <TrustPanel job={job} />

      <div className="grid-2">
        <section className="panel">
          <h2>Tasks</h2>
          <TaskGrid tasks={job.tasks} all={job.allTasks} counts={job.taskCounts} />
        </section>
        <section className="panel">
          <h2>Throughput</h2>
          <ThroughputChart points={job.throughput} live={!finished} />
        </section>
      </div>

      <section className="panel">
        <div className="spread" style={{ marginBottom: 12 }}>
          <h2 style={{ margin: 0 }}>Results</h2>
          <div className="row">
            <button
              type="button"
              className="btn"
              data-testid="download-json"
              disabled={!results || outputs.length === 0 || paged}
              title={pagedHint}
              onClick={() =>
                results &&
                download(
                  `${job.id.slice(0, 12)}.json`,
                  resultsJson(job.id, results),
                  'application/json',
                )
              }
            >
              JSON
            </button>
            <button
              type="button"
              className="btn"
              data-testid="download-csv"
              disabled={!results || outputs.length === 0 || paged}
              title={pagedHint}
              onClick={() =>
                results && download(`${job.id.slice(0, 12)}.csv`, resultsCsv(results), 'text/csv')
              }
            >
              CSV
            </button>
            <button
              type="button"
              className="btn"
              data-testid="download-npz"
              disabled={job.verified === 0 || npzTooMany}
              title={
                npzTooMany
                  ? `An .npz holds at most ${NPZ_MAX_ENTRIES.toLocaleString()} entries (zip without ZIP64)`
                  : undefined
              }
              onClick={() =>
                void runtime.resultsArchive(job.id).then((a) => {
                  if (a) downloadBlob(`${job.id.slice(0, 12)}.npz`, a.blob);
                })
              }
            >
              NPZ
            </button>
            {outputs.map((name) => (
              <button
                key={name}
                type="button"
                className="btn"
                data-testid="download-npy"
                data-output={name}
                disabled={paged && job.state !== 'completed'}
                title={
                  paged ? 'Every task, read from this browser once the job is completed' : undefined
                }
                onClick={() => {
                  if (paged) {
                    setDownloadError(null);
                    void runtime.resultsNpy(job.id, name).then((r) => {
                      if (r?.ok) downloadBlob(`${job.id.slice(0, 12)}-${name}.npy`, r.blob);
                      else if (r) setDownloadError(r.error);
                    });
                    return;
                  }
                  const stacked =
                    results &&
                    stackOutputs(
                      results.tasks.flatMap((t) => (t.outputs?.[name] ? [t.outputs[name]] : [])),
                    );
                  if (stacked)
                    download(
                      `${job.id.slice(0, 12)}-${name}.npy`,
                      encodeNpy(stacked),
                      'application/octet-stream',
                    );
                }}
              >
                NPY{outputs.length > 1 ? ` · ${name}` : ''}
              </button>
            ))}
          </div>
        </div>
        {downloadError && (
          <div className="alert bad" data-testid="download-error" style={{ marginBottom: 8 }}>
            {downloadError}
          </div>
        )}
        {results && results.total > RESULTS_PAGE && (
          <div className="row small" data-testid="results-pager" style={{ marginBottom: 8 }}>
            <button
              type="button"
              className="btn"
              data-testid="results-prev"
              disabled={offset === 0}
              onClick={() => setOffset(Math.max(0, offset - RESULTS_PAGE))}
            >
              ← Previous
            </button>
            <span className="muted" data-testid="results-range">
              tasks {(results.offset + 1).toLocaleString()}–
              {(results.offset + results.tasks.length).toLocaleString()} of{' '}
              {results.total.toLocaleString()}
            </span>
            <button
              type="button"
              className="btn"
              data-testid="results-next"
              disabled={offset + RESULTS_PAGE >= results.total}
              onClick={() => setOffset(offset + RESULTS_PAGE)}
            >
              Next →
            </button>
          </div>
        )}
        <div data-testid="results">
          {results ? <Results results={results} /> : <p className="muted">Loading…</p>}
        </div>
      </section>

      <div className="grid-2">
        <section className="panel">
          <h2>Donors</h2>
          {job.donors.length === 0 ? (
            <p className="empty">No donor has returned a result yet.</p>
          ) : (
            <div className="table-wrap">
              <table data-testid="donor-table">
                <thead>
                  <tr>
                    <th>Donor</th>
                    <th className="num">Results</th>
                    <th className="num">Agreed</th>
                    <th className="num" title="results confirmed since its last lost vote">
                      Audited
                    </th>
                    <th className="num hide-sm">Reputation</th>
                    <th className="num hide-sm">Credit</th>
                  </tr>
                </thead>
                <tbody>
                  {job.donors.map((d) => (
                    <tr key={d.id} data-testid="donor-row" data-peer={d.id}>
                      <td>
                        <code title={d.id}>{shortId(d.id)}</code>{' '}
                        {d.anchor && <span className="badge ok">anchor</span>}
                        {d.excluded && <span className="badge bad">excluded</span>}
                      </td>
                      <td className="num">{d.results}</td>
                      <td className="num">
                        {d.agreed}
                        {d.disagreed > 0 && (
                          <span style={{ color: 'var(--bad)' }}> / −{d.disagreed}</span>
                        )}
                      </td>
                      <td className="num">{d.anchor ? '—' : d.audited}</td>
                      <td className="num hide-sm">{d.reputation.toFixed(2)}</td>
                      <td className="num hide-sm">{formatMs(d.computeMs)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <p className="muted small" style={{ marginTop: 8 }}>
                Results: returned to this job. Agreed, audited (results confirmed by another donor
                since its last lost vote), reputation and credit (verified compute) are kept per
                donor key over every job this browser coordinated. An anchor's results are right by
                construction.
              </p>
            </div>
          )}
        </section>
        <section className="panel">
          <h2>Event log</h2>
          <div className="log" data-testid="event-log">
            {job.events.length === 0 && <p className="muted">Nothing yet.</p>}
            {job.events
              .slice(-EVENT_LOG_ROWS)
              .reverse()
              .map((e) => (
                <div key={`${e.at}:${e.text}`} className={e.level}>
                  <span className="muted mono">{formatTime(e.at)}</span>
                  <span>{e.text}</span>
                </div>
              ))}
          </div>
          <p className="muted small" style={{ marginTop: 10 }}>
            Policy: {job.policy.replicas} replicas, quorum {job.policy.quorum}, up to{' '}
            {job.policy.maxReplicas} while short of the target error{' '}
            {formatBound(job.policy.targetError)}, audits {Math.round(job.policy.auditRate * 100)}%,
            anchor share {Math.round(job.policy.anchorShare * 100)}%, deadline{' '}
            {formatMs(job.policy.taskDeadlineMs)}. Verdicts (one per returned lease) are left out of
            the log.
          </p>
        </section>
      </div>
    </>
  );
}

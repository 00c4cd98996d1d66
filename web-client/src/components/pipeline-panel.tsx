import { download } from '../lib/download.ts';
import type { PipelineView } from '../lib/pipeline-run.ts';
import { routeHash } from '../lib/route.ts';

/** A pipeline run from the Submit view: its stages (with their jobs), then its result. */
export function PipelinePanel({ run }: { run: PipelineView }) {
  const result = run.result === undefined ? null : JSON.stringify(run.result, null, 2);
  return (
    <section className="panel stack" data-testid="pipeline-view" data-state={run.state}>
      <h2>Pipeline · {run.name}</h2>
      <ol className="stack">
        {run.stages.map((s) => (
          <li key={s.id} data-testid={`pipeline-stage-${s.id}`} data-state={s.state}>
            <strong>{s.id}</strong> <span className="muted">({s.what})</span> · {s.state}
            {s.jobId && (
              <>
                {' · '}
                <a href={routeHash({ view: 'job', id: s.jobId })}>its job</a>
              </>
            )}
            {s.note && <span className="muted"> · {s.note}</span>}
          </li>
        ))}
      </ol>
      {run.error && (
        <div className="alert bad" role="alert" data-testid="pipeline-error">
          <pre>{run.error}</pre>
        </div>
      )}
      {result !== null && (
        <>
          <h3>Result</h3>
          <pre data-testid="pipeline-result">{result}</pre>
          <div className="row">
            <button
              type="button"
              className="btn"
              data-testid="download-pipeline-result"
              onClick={() => download('result.json', `${result}\n`, 'application/json')}
            >
              result.json
            </button>
          </div>
        </>
      )}
    </section>
  );
}

import { useEffect, useState } from 'react';
import { type CreditPoint, gridsServed } from '../grid/credit-history.ts';
import { chartGeometry } from '../lib/chart.ts';
import { formatMs } from '../lib/format.ts';

/** How often the chart re-reads the history, ms (the page saves credit at most every second). */
const REFRESH_MS = 5_000;

/**
 * This peer id's verified compute over time, across sessions (kept in the
 * page database), with the tasks verified, results rejected and the grids
 * served.
 */
export function CreditChart({ load }: { load: () => Promise<readonly CreditPoint[]> }) {
  const [history, setHistory] = useState<readonly CreditPoint[]>([]);
  useEffect(() => {
    let live = true;
    const read = () =>
      void load().then(
        (h) => live && setHistory(h),
        () => {},
      );
    read();
    const t = setInterval(read, REFRESH_MS);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [load]);
  // Wide and low: the panel spans the page, and the labels scale with the view box.
  const W = 1000;
  const H = 160;
  const points = history.map((p) => [p.t, p.verifiedMs / 1000] as const);
  const last = history.at(-1);
  const g = chartGeometry(points, last?.t ?? 0, W, H, 6);
  const grids = gridsServed(history);
  return (
    <div className="stack" data-testid="credit-history" data-points={history.length}>
      {!g || !last ? (
        <div className="empty" data-testid="credit-chart">
          No verified work yet: submitters' verdicts on this tab's results show up here.
        </div>
      ) : (
        <svg
          className="chart"
          viewBox={`0 0 ${W} ${H + 18}`}
          role="img"
          aria-label="Verified compute over time"
          data-testid="credit-chart"
        >
          <path d={g.area} fill="var(--accent)" opacity={0.12} />
          <path d={g.line} fill="none" stroke="var(--accent)" strokeWidth={2.2} />
          <text x={8} y={18}>
            {formatMs(last.verifiedMs)} verified
          </text>
          <text x={6} y={H + 14}>
            {new Date(history[0]!.t).toLocaleDateString()}
          </text>
          <text x={W - 6} y={H + 14} textAnchor="end">
            {new Date(last.t).toLocaleString()}
          </text>
        </svg>
      )}
      <p className="muted small" data-testid="credit-totals">
        {last
          ? `${last.accepted} tasks verified (agreed with the accepted result), ${last.rejected} rejected`
          : '0 tasks verified'}
      </p>
      {grids.length > 0 && (
        <div className="table-wrap">
          <table data-testid="grids-served">
            <thead>
              <tr>
                <th>grid served</th>
                <th className="num">tasks verified</th>
                <th className="num">verified compute</th>
                <th className="num">rejected</th>
              </tr>
            </thead>
            <tbody>
              {grids.map((gr) => (
                <tr key={gr.grid}>
                  <td>{gr.grid || '—'}</td>
                  <td className="num">{gr.accepted}</td>
                  <td className="num">{formatMs(gr.verifiedMs)}</td>
                  <td className="num">{gr.rejected}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

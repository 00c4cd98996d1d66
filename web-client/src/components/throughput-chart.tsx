import { chartGeometry } from '../lib/chart.ts';
import { formatMs } from '../lib/format.ts';
import { useMedia, useTicker } from '../state/hooks.ts';

/** Verified tasks over time, hand-drawn SVG. */
export function ThroughputChart({
  points,
  live,
}: {
  points: readonly (readonly [number, number])[];
  live: boolean;
}) {
  const tick = useTicker(1000);
  // Narrower on phones so the labels stay readable (SVG text scales with the view box).
  const narrow = useMedia('(max-width: 600px)');
  const W = narrow ? 320 : 560;
  const H = narrow ? 140 : 160;
  const lastT = points.at(-1)?.[0] ?? tick;
  const now = live ? tick : lastT;
  const g = chartGeometry(points, now, W, H, 6);
  if (!g) {
    return (
      <div className="empty" data-testid="throughput-chart">
        No results yet.
      </div>
    );
  }
  return (
    <figure style={{ margin: 0 }}>
      <svg
        className="chart"
        viewBox={`0 0 ${W} ${H + 18}`}
        role="img"
        aria-label="Verified tasks over time"
        data-testid="throughput-chart"
      >
        {[0.25, 0.5, 0.75].map((f) => (
          <line
            key={f}
            x1={6}
            x2={W - 6}
            y1={6 + f * (H - 12)}
            y2={6 + f * (H - 12)}
            stroke="var(--line)"
            strokeDasharray="3 4"
          />
        ))}
        <path d={g.area} fill="var(--accent)" opacity={0.12} />
        <path
          d={g.line}
          fill="none"
          stroke="var(--accent)"
          strokeWidth={2.2}
          strokeLinejoin="round"
        />
        <text x={8} y={18}>
          {g.yMax} task{g.yMax === 1 ? '' : 's'}
        </text>
        <text x={6} y={H + 14}>
          0 s
        </text>
        <text x={W - 6} y={H + 14} textAnchor="end">
          {formatMs(g.spanMs)}
        </text>
      </svg>
      <figcaption className="muted small" data-testid="throughput-rate">
        {g.ratePerS.toFixed(2)} tasks/s on average
      </figcaption>
    </figure>
  );
}

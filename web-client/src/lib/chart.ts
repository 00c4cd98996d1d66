/** Geometry for the throughput chart: pure so it can be tested. */

export interface ChartGeometry {
  /** SVG path of the cumulative line. */
  readonly line: string;
  /** Closed path under the line. */
  readonly area: string;
  readonly yMax: number;
  /** Span of the x axis, ms. */
  readonly spanMs: number;
  /** Mean rate over the span, per second. */
  readonly ratePerS: number;
}

/**
 * Maps cumulative [time, count] points into a width×height box (with `pad`
 * on every side); the x axis runs from the first point to `now`.
 */
export function chartGeometry(
  points: readonly (readonly [number, number])[],
  now: number,
  width: number,
  height: number,
  pad = 4,
): ChartGeometry | null {
  const first = points[0];
  const last = points.at(-1);
  if (!first || !last) return null;
  const t0 = first[0];
  const spanMs = Math.max(1000, now - t0);
  const yMax = Math.max(1, ...points.map((p) => p[1]));
  const x = (t: number) => pad + ((t - t0) / spanMs) * (width - 2 * pad);
  const y = (v: number) => height - pad - (v / yMax) * (height - 2 * pad);
  const coords = points.map(([t, v]) => [x(t), y(v)] as const);
  coords.push([x(Math.max(now, last[0])), y(last[1])]);
  const line = coords
    .map(([cx, cy], i) => `${i === 0 ? 'M' : 'L'}${cx.toFixed(1)},${cy.toFixed(1)}`)
    .join(' ');
  const lastX = coords.at(-1)?.[0] ?? pad;
  const firstX = coords[0]?.[0] ?? pad;
  const area = `${line} L${lastX.toFixed(1)},${height - pad} L${firstX.toFixed(1)},${height - pad} Z`;
  return { line, area, yMax, spanMs, ratePerS: ((last[1] - first[1]) / spanMs) * 1000 };
}

/** Human-readable figures for the page. */

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** A peer id shortened for display: first 6 and last 4 characters. */
export function shortId(id: string): string {
  return id.length <= 12 ? id : `${id.slice(0, 6)}…${id.slice(-4)}`;
}

export function formatPercent(part: number, whole: number): string {
  if (whole <= 0) return '0%';
  return `${Math.round((part / whole) * 100)}%`;
}

/** One formatter for every call: building one per call cost the job view seconds of CPU. */
const TIME = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** A wall-clock time, e.g. 14:03:07, in the page's locale. */
export function formatTime(epochMs: number): string {
  return TIME.format(epochMs);
}

/** A bound on the chance that a result is wrong, e.g. 6.1e-5 (0 for an anchor's; '—' when unknown). */
export function formatBound(p: number): string {
  if (!Number.isFinite(p) || p < 0) return '—';
  if (p === 0) return '0';
  return p.toExponential(1).replace('.0e', 'e').replace('e+', 'e');
}

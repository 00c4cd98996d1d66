/**
 * Options the page reads from its URL:
 * `?grid=NAME&signal=ws://host:port/path&workers=N&gpu=0|1&token=T&ice=relay&resident=N`.
 */
export interface UrlOptions {
  /** Grid to join. Default `"default"`. */
  readonly grid: string;
  /** Signaling WebSocket URL. Default: the page's own origin (ws/wss) at `SIGNAL_PATH`. */
  readonly signalUrl: string;
  /** Worker limit set by the user; null = machine default (cores - 1). */
  readonly workers: number | null;
  /** Use WebGPU when an adapter exists. Default true. */
  readonly gpu: boolean;
  /** Join token for grids that require one. Default none. */
  readonly token: string | null;
  /** `ice=relay`: links through the grid's TURN server only (relay-only ICE). Default false. */
  readonly iceRelay: boolean;
  /**
   * `resident=N`: verified tasks of a job's groups kept in memory before the
   * oldest final ones leave it for IndexedDB (the engine's `residentVerified`);
   * null = the engine's default (10,000). For tests and tuning.
   */
  readonly residentVerified: number | null;
}

/** WebSocket path the signaling server listens on (same port as the page). */
export const SIGNAL_PATH = '/ws';
/** Upper bound for `workers`: more would only contend for the same cores. */
export const MAX_WORKERS = 32;
const GRID_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Reads the page options; invalid values fall back to their defaults. */
export function parseUrlOptions(search: string, pageUrl: string): UrlOptions {
  const q = new URLSearchParams(search);
  const page = new URL(pageUrl);
  const grid = q.get('grid');
  const signal = q.get('signal');
  const workers = Number.parseInt(q.get('workers') ?? '', 10);
  const gpu = q.get('gpu');
  const resident = Number.parseInt(q.get('resident') ?? '', 10);
  return {
    grid: grid && GRID_NAME.test(grid) ? grid : 'default',
    signalUrl: signal && /^wss?:\/\//.test(signal) ? signal : defaultSignalUrl(page),
    workers: Number.isFinite(workers) && workers >= 0 ? Math.min(workers, MAX_WORKERS) : null,
    gpu: gpu !== '0' && gpu !== 'false',
    token: q.get('token') || null,
    iceRelay: q.get('ice') === 'relay',
    residentVerified: Number.isFinite(resident) && resident >= 1 ? resident : null,
  };
}

function defaultSignalUrl(page: URL): string {
  const proto = page.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${page.host}${SIGNAL_PATH}`;
}

/** Worker pool size: min(cores - 1, the user's limit), at least 1 unless the user said 0. */
export function poolSize(hardwareConcurrency: number, limit: number | null): number {
  const machine = Math.max(1, (hardwareConcurrency || 2) - 1);
  if (limit === null) return machine;
  return Math.max(0, Math.min(machine, limit));
}

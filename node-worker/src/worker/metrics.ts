/**
 * The worker's Prometheus metrics (prom-client, a registry of its own). They
 * project what others own: runs as the executor reports them, verdicts as
 * the donor node counts them (`onCredit`), load and links read from the
 * donor agent and the peer pool at scrape time, the model cache's size read
 * from its directory. Nothing here decides anything.
 */
import type { Backend, DonorCredit, DonorStatus, PeerLoad } from '@peergrid/shared';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/** What the gauges read at scrape time; a source not there yet reads as 0. */
export interface WorkerMetricsSource {
  load(): PeerLoad | undefined;
  /** Paused or not, CPU share asked and measured. Optional: absent reads as running at 100 %. */
  status?(): DonorStatus | undefined;
  /** Open peer links (submitters and mesh donors). */
  links(): number;
  modelCache(): Promise<{ readonly bytes: number; readonly models: number }>;
}

export interface WorkerInfo {
  readonly peerId: string;
  readonly grid: string;
  readonly backends: readonly Backend[];
}

export interface WorkerMetrics {
  readonly registry: Registry;
  /** A run returned a result after `computeMs` of compute on `backend`. */
  ran(backend: Backend, computeMs: number): void;
  /** A run failed with this error code. */
  failed(code: string): void;
  /** The donor's verdict totals changed (counters advance by the difference). */
  credited(c: DonorCredit): void;
  /** The exposition text, and its content type. */
  scrape(): Promise<{ readonly text: string; readonly contentType: string }>;
}

const P = 'peergrid_worker_';

export function createWorkerMetrics(source: WorkerMetricsSource, info: WorkerInfo): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  new Gauge({
    name: `${P}info`,
    help: 'This worker: peer id, grid, backends advertised (value 1)',
    labelNames: ['peer_id', 'grid', 'backends'],
    registers,
  })
    .labels(info.peerId, info.grid, info.backends.join(','))
    .set(1);
  const run = new Counter({
    name: `${P}tasks_run_total`,
    help: 'Tasks run to a result, by backend',
    labelNames: ['backend'],
    registers,
  });
  const failed = new Counter({
    name: `${P}tasks_failed_total`,
    help: 'Tasks that failed in the executor, by error code',
    labelNames: ['code'],
    registers,
  });
  const verified = new Counter({
    name: `${P}tasks_verified_total`,
    help: "Results submitters' verdicts judged: accepted (verified) or rejected",
    labelNames: ['verdict'],
    registers,
  });
  const credit = new Counter({
    name: `${P}verified_compute_seconds_total`,
    help: 'Compute credited by accepted verdicts, seconds',
    registers,
  });
  const busy = new Counter({
    name: `${P}busy_seconds_total`,
    help: 'Compute time of tasks run to a result (inside the ONNX Runtime session), by backend, seconds',
    labelNames: ['backend'],
    registers,
  });
  for (const b of info.backends) {
    run.labels(b).inc(0);
    busy.labels(b).inc(0);
  }
  verified.labels('accepted').inc(0);
  verified.labels('rejected').inc(0);
  const loadGauge = (name: string, help: string, pick: (l: PeerLoad) => number) =>
    new Gauge({
      name: `${P}${name}`,
      help,
      registers,
      collect() {
        const l = source.load();
        this.set(l ? pick(l) : 0);
      },
    });
  loadGauge('tasks_running', 'Tasks running now', (l) => l.running);
  loadGauge('queue_depth', 'Leases queued beyond the running ones', (l) => l.queued);
  loadGauge('queue_limit', 'Most leases held at once, running and queued', (l) => l.limit ?? 0);
  loadGauge('slots', 'Tasks it runs at once (concurrency)', (l) => l.capacity);
  const statusGauge = (
    name: string,
    help: string,
    pick: (s: DonorStatus) => number,
    none: number,
  ) =>
    new Gauge({
      name: `${P}${name}`,
      help,
      registers,
      collect() {
        const st = source.status?.();
        this.set(st ? pick(st) : none);
      },
    });
  statusGauge(
    'paused',
    '1 while paused (schedule, load rule), else 0',
    (s) => (s.paused ? 1 : 0),
    0,
  );
  statusGauge('cpu_share', 'CPU share asked for (--cpu-share), 0-1', (s) => s.cpuShare, 1);
  statusGauge(
    'cpu_share_measured',
    "Busy time over wall time of the worker's slots, last 30 s, 0-1",
    (s) => s.measuredShare,
    0,
  );
  new Gauge({
    name: `${P}links`,
    help: 'Open peer links (submitters and mesh donors)',
    registers,
    collect() {
      this.set(source.links());
    },
  });
  // One directory read per scrape serves both cache gauges.
  let cacheScan: Promise<{ bytes: number; models: number }> | null = null;
  const scan = () => {
    cacheScan ??= source.modelCache().finally(() => {
      cacheScan = null;
    });
    return cacheScan;
  };
  new Gauge({
    name: `${P}model_cache_bytes`,
    help: 'Bytes of models in the disk cache',
    registers,
    async collect() {
      this.set((await scan()).bytes);
    },
  });
  new Gauge({
    name: `${P}model_cache_models`,
    help: 'Models in the disk cache',
    registers,
    async collect() {
      this.set((await scan()).models);
    },
  });
  let seen: DonorCredit = { accepted: 0, verifiedMs: 0, rejected: 0 };
  return {
    registry,
    ran(backend, computeMs) {
      run.labels(backend).inc();
      if (computeMs > 0) busy.labels(backend).inc(computeMs / 1000);
    },
    failed(code) {
      failed.labels(code).inc();
    },
    credited(c) {
      if (c.accepted > seen.accepted) verified.labels('accepted').inc(c.accepted - seen.accepted);
      if (c.rejected > seen.rejected) verified.labels('rejected').inc(c.rejected - seen.rejected);
      if (c.verifiedMs > seen.verifiedMs) credit.inc((c.verifiedMs - seen.verifiedMs) / 1000);
      seen = c;
    },
    async scrape() {
      return { text: await registry.metrics(), contentType: registry.contentType };
    },
  };
}

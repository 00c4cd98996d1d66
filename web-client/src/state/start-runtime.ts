import { createReputationBook } from '@peergrid/shared';
import { openIdbJobStore } from '@peergrid/shared/idb-store';
import { createBrowserPool } from '../exec/browser-pool.ts';
import { probeGpu } from '../exec/gpu-probe.ts';
import { createGridNode, type GridNode } from '../grid/grid-node.ts';
import { createJobHost, type JobHost } from '../grid/job-host.ts';
import { openPageDb } from '../grid/page-db.ts';
import { parseUrlOptions, poolSize } from '../lib/url-options.ts';
import type { PageRuntime } from './runtime.ts';
import { createStore, type Store } from './store.ts';
import type { DonorView, GridView, JobDetail, JobSummary, MeshPeer } from './types.ts';

/** Builds the page's runtime from its URL: worker pool at once, then storage, identity, grid and jobs. */
export function startRuntime(location: Location): PageRuntime {
  const options = parseUrlOptions(location.search, location.href);
  const cores = navigator.hardwareConcurrency || 2;
  const pool = createBrowserPool({ workers: options.workers, gpu: options.gpu });
  const grid = createStore<GridView>({
    grid: options.grid,
    signalUrl: options.signalUrl,
    signal: 'connecting',
    signalError: null,
    selfId: null,
    peers: [],
  });
  const donor = createStore<DonorView>({
    paused: false,
    workers: pool.concurrency,
    maxWorkers: poolSize(cores, null),
    gpuEnabled: options.gpu,
    gpuAdapter: null,
    backends: ['wasm'],
    threads: pool.state().threads,
    isolated: self.crossOriginIsolated,
    tasksDone: 0,
    tasksFailed: 0,
    verifiedMs: 0,
    rejected: 0,
    computeMs: 0,
    current: [],
  });
  const jobs = createStore<readonly JobSummary[]>([]);
  const jobsReady = createStore(false);
  const details = new Map<string, Store<JobDetail | null>>();
  let node: GridNode | null = null;
  let host: JobHost | null = null;
  let meshTimer: ReturnType<typeof setInterval> | undefined;

  pool.subscribe(() => {
    const s = pool.state();
    donor.update((d) => ({ ...d, workers: s.size, backends: s.backends, threads: s.threads }));
  });
  void probeGpu().then((g) => donor.update((d) => ({ ...d, gpuAdapter: g.adapter })));

  function refreshMesh(): void {
    if (!node) return;
    const p = node.peer.pool;
    const peers: MeshPeer[] = [
      { id: node.identity.id, self: true, capabilities: node.capabilities(), connected: true },
    ];
    for (const info of node.peers().values()) {
      const link = p?.get(info.id);
      const stats = link && !link.closed ? link.stats() : null;
      peers.push({
        id: info.id,
        self: false,
        capabilities: info.capabilities,
        connected: !!stats,
        ...(stats ? { bytes: stats.bytesSent + stats.bytesReceived } : {}),
      });
    }
    grid.update((g) => ({ ...g, selfId: node?.identity.id ?? null, peers }));
  }

  // Job views are rebuilt at most every 150 ms, however many events arrive.
  let pending: ReturnType<typeof setTimeout> | null = null;
  function refreshJobs(): void {
    if (pending !== null) return;
    pending = setTimeout(() => {
      pending = null;
      if (!host) return;
      jobs.set(host.summaries());
      for (const [id, s] of details) s.set(host.detail(id));
    }, 150);
  }

  async function boot(): Promise<void> {
    const [store, db] = await Promise.all([openIdbJobStore(), openPageDb()]);
    const book = createReputationBook(await store.reputations());
    node = await createGridNode({
      options,
      store,
      db,
      executor: pool,
      paused: () => donor.get().paused,
      events: {
        status: (signal, error) => grid.update((g) => ({ ...g, signal, signalError: error })),
        mesh: refreshMesh,
        donor: (c) => donor.update((d) => ({ ...d, ...c })),
      },
    });
    grid.update((g) => ({ ...g, selfId: node?.identity.id ?? null }));
    refreshMesh();
    host = await createJobHost({ store, db, node, book, onChange: refreshJobs });
    jobs.set(host.summaries());
    for (const [id, s] of details) s.set(host.detail(id));
    jobsReady.set(true);
    refreshJobs();
    meshTimer = setInterval(refreshMesh, 2000);
  }
  const booted = boot().catch((e: unknown) => {
    jobsReady.set(true);
    grid.update((g) => ({
      ...g,
      signal: 'error',
      signalError: `cannot start: ${(e as Error).message ?? String(e)}`,
    }));
  });

  const setPaused = (paused: boolean) => {
    donor.update((d) => ({ ...d, paused }));
    node?.donor.setPaused(paused);
    node?.announce();
  };

  return {
    options,
    executor: pool,
    grid,
    donor,
    jobs,
    jobsReady,
    jobDetail(id) {
      let s = details.get(id);
      if (!s) {
        s = createStore<JobDetail | null>(host?.detail(id) ?? null);
        details.set(id, s);
      }
      return s;
    },
    jobResults: async (id) => {
      await booted;
      return host?.results(id) ?? null;
    },
    pause: () => setPaused(true),
    resume: () => setPaused(false),
    setWorkers: (n) => {
      pool.resize(Math.max(1, Math.min(n, poolSize(cores, null))));
      node?.donor.refresh();
      node?.announce();
    },
    setGpu: (on) => {
      pool.setGpu(on);
      donor.update((d) => ({ ...d, gpuEnabled: on }));
      void pool.backends().then(() => node?.announce());
    },
    inspectModel: (model) => pool.inspect(model),
    submit: async (draft) => {
      await booted;
      if (!host)
        return {
          ok: false,
          error: 'This page could not open its storage, so it cannot keep jobs.',
        };
      return host.submit(draft);
    },
    cancelJob: async (id) => {
      await booted;
      host?.cancel(id);
    },
    close: async () => {
      clearInterval(meshTimer);
      await host?.close();
      node?.close();
      await pool.close();
    },
  };
}

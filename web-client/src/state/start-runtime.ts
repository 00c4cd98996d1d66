import { createReputationBook, type JobStore } from '@peergrid/shared';
import { openIdbJobStore } from '@peergrid/shared/idb-store';
import { createBrowserPool } from '../exec/browser-pool.ts';
import { probeGpu } from '../exec/gpu-probe.ts';
import { createGridNode, type GridNode } from '../grid/grid-node.ts';
import { createJobHost, type JobHost } from '../grid/job-host.ts';
import { openPageDb, type PageDb } from '../grid/page-db.ts';
import { timers } from '../grid/platform.ts';
import { claimIdentitySlot } from '../grid/tab-locks.ts';
import { resultsNpzBlob } from '../lib/results-npz.ts';
import { parseUrlOptions, poolSize } from '../lib/url-options.ts';
import { coalesce, once } from './coalesce.ts';
import { createDonorControls } from './donor-controls.ts';
import type { PageRuntime } from './runtime.ts';
import { createStore, type Store } from './store.ts';
import type { DonorView, GridView, JobDetail, JobSummary, MeshPeer } from './types.ts';

/**
 * How long after the grid join the tab probes the GPU and warms its workers,
 * ms. Default 5 000: neither is needed to join, and both cost CPU (the GPU
 * process woken; ORT's WASM fetched and compiled) while the page and its peers
 * are still settling in. Warm workers make the first task no slower than the next.
 */
export const AFTER_JOIN_MS = 5_000;
/** How long the after-join work waits for the join before it runs anyway, ms. Default 10 000. */
export const AFTER_JOIN_FALLBACK_MS = 10_000;
/**
 * How often job views are rebuilt at most while events arrive, ms. Default 300:
 * the submitting tab coordinates its jobs on the same thread that draws them.
 */
export const JOB_VIEWS_MS = 300;
/** How often the mesh view re-reads link statistics besides on mesh events, ms. Default 2 000. */
export const MESH_STATS_MS = 2_000;

/**
 * Builds the page's runtime from its URL: storage, identity and the grid join
 * first; the GPU probe and the workers' warm-up some seconds after the join.
 */
export function startRuntime(location: Location): PageRuntime {
  performance.mark('peergrid:runtime-start');
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
    cpuShare: 1,
    measuredShare: 0,
    pauseReason: null,
    batterySupported: false,
    onlyWhileCharging: false,
    pauseWhileInUse: false,
    inUseSource: 'this-tab',
  });
  // The donor's rules (button, CPU share, battery, in use) decide `paused`.
  const controls = createDonorControls(donor);
  const jobs = createStore<readonly JobSummary[]>([]);
  const jobsReady = createStore(false);
  const details = new Map<string, Store<JobDetail | null>>();
  let node: GridNode | null = null;
  let host: JobHost | null = null;
  let pageDb: PageDb | null = null;
  let jobStore: JobStore | null = null;
  let meshTimer: ReturnType<typeof setInterval> | undefined;

  // The pool tells of every batch it sends and gets; the view changes only with these fields.
  pool.subscribe(() => {
    const s = pool.state();
    const d = donor.get();
    if (d.workers === s.size && d.backends === s.backends && d.threads === s.threads) return;
    donor.update((d) => ({ ...d, workers: s.size, backends: s.backends, threads: s.threads }));
  });
  // Asking for a WebGPU adapter wakes the GPU process, and warming the workers compiles ORT's
  // WASM: not before this tab is in the grid (a paused tab warms at its first task).
  const afterJoin = once(
    () => {
      void probeGpu().then((g) => donor.update((d) => ({ ...d, gpuAdapter: g.adapter })));
      if (!donor.get().paused) void pool.warm();
    },
    AFTER_JOIN_FALLBACK_MS,
    timers,
  );

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
    const links = p?.stats();
    grid.update((g) => ({
      ...g,
      selfId: node?.identity.id ?? null,
      peers,
      ...(links ? { links: { ...links, refused: { ...links.refused } } } : {}),
    }));
  }

  // A burst of presence events (the welcome lists every peer) is one view update, in the next task.
  const meshChanged = coalesce(refreshMesh, 0, timers);
  // Job views are rebuilt at most every JOB_VIEWS_MS, however many events arrive.
  const jobsChanged = coalesce(
    () => {
      if (!host) return;
      jobs.set(host.summaries());
      for (const [id, s] of details) s.set(host.detail(id));
    },
    JOB_VIEWS_MS,
    timers,
  );
  const refreshJobs = () => jobsChanged.schedule();

  async function boot(): Promise<void> {
    // Nothing waits on anything it does not need: the identity slot (a Web Lock) is claimed
    // while storage opens, and reputations load while the tab joins.
    const identitySlot = claimIdentitySlot();
    const [store, db] = await Promise.all([openIdbJobStore(), openPageDb()]);
    pageDb = db;
    jobStore = store;
    performance.mark('peergrid:storage-open');
    const reputations = store.reputations();
    reputations.catch(() => {}); // awaited below, after the join
    node = await createGridNode({
      options,
      store,
      db,
      executor: pool,
      paused: () => donor.get().paused,
      identitySlot,
      events: {
        status: (signal, error) => {
          if (signal === 'online') {
            performance.mark('peergrid:online');
            timers.setTimeout(afterJoin.trigger, AFTER_JOIN_MS);
          }
          grid.update((g) => ({ ...g, signal, signalError: error }));
        },
        mesh: () => meshChanged.schedule(),
        donor: (c) => donor.update((d) => ({ ...d, ...c })),
      },
    });
    performance.mark('peergrid:node-created');
    controls.bind(node.donor, () => node?.announce());
    grid.update((g) => ({ ...g, selfId: node?.identity.id ?? null }));
    refreshMesh();
    const book = createReputationBook(await reputations);
    host = await createJobHost({
      store,
      db,
      node,
      book,
      onChange: refreshJobs,
      ...(options.residentVerified !== null
        ? { engine: { residentVerified: options.residentVerified } }
        : {}),
    });
    jobs.set(host.summaries());
    for (const [id, s] of details) s.set(host.detail(id));
    jobsReady.set(true);
    performance.mark('peergrid:jobs-ready');
    refreshJobs();
    meshTimer = setInterval(refreshMesh, MESH_STATS_MS);
  }
  const booted = boot().catch((e: unknown) => {
    jobsReady.set(true);
    grid.update((g) => ({
      ...g,
      signal: 'error',
      signalError: `cannot start: ${(e as Error).message ?? String(e)}`,
    }));
  });

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
    jobResults: async (id, page) => {
      await booted;
      return (await host?.results(id, page)) ?? null;
    },
    resultsNpy: async (id, output) => {
      await booted;
      return (await host?.stackedOutput(id, output)) ?? null;
    },
    resultsArchive: async (id) => {
      await booted;
      return jobStore ? resultsNpzBlob(jobStore, id) : null;
    },
    pause: () => controls.pause(),
    resume: () => controls.resume(),
    setCpuShare: (share) => controls.setCpuShare(share),
    creditHistory: async () => {
      await booted;
      return pageDb && node ? pageDb.getCreditHistory(node.identity.id) : [];
    },
    setOnlyWhileCharging: (on) => controls.setOnlyWhileCharging(on),
    setPauseWhileInUse: (on) => controls.setPauseWhileInUse(on),
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
      controls.close();
      clearInterval(meshTimer);
      meshChanged.cancel();
      jobsChanged.cancel();
      await host?.close();
      node?.close();
      await pool.close();
    },
  };
}

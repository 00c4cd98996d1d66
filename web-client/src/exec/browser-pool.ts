import type { Remote } from 'comlink';
import { transfer, wrap } from 'comlink';
import { timers } from '../grid/platform.ts';
import { poolSize } from '../lib/url-options.ts';
import type { WorkerHandle, WorkerPool } from './worker-pool.ts';
import { createWorkerPool } from './worker-pool.ts';
import type { OrtWorkerPortApi, WorkerRepliesMessage } from './worker-protocol.ts';

/**
 * Starts one ORT Web Worker (a module worker bundled by Vite) and hands it
 * the port its runs cross on, apart from comlink's calls.
 */
export function spawnOrtWorker(): WorkerHandle {
  const worker = new Worker(new URL('./ort-worker.ts', import.meta.url), {
    type: 'module',
    name: 'peergrid-ort',
  });
  const api = wrap<OrtWorkerPortApi>(worker) as unknown as Remote<OrtWorkerPortApi> &
    OrtWorkerPortApi;
  const runs = new MessageChannel();
  void Promise.resolve(api.connect(transfer(runs.port2, [runs.port2]))).catch(() => {});
  return {
    api,
    post: (msg) => runs.port1.postMessage(msg),
    onReplies: (listener) => {
      runs.port1.onmessage = (e: MessageEvent<WorkerRepliesMessage>) => listener(e.data);
    },
    terminate: () => {
      runs.port1.close();
      worker.terminate();
    },
  };
}

/** Where ORT's runtime files are served: `/ort/` beside the page (copied there by the build). */
export function ortAssetBase(): string {
  return new URL(`${import.meta.env.BASE_URL}ort/`, self.location.origin).href;
}

export interface BrowserPoolOptions {
  /** The user's worker limit; null = cores - 1. */
  readonly workers: number | null;
  readonly gpu: boolean;
}

/** The page's worker pool, sized to the machine and the donor's limit. */
export function createBrowserPool(opts: BrowserPoolOptions): WorkerPool {
  const cores = navigator.hardwareConcurrency || 2;
  const size = poolSize(cores, opts.workers);
  // Threads only help when the page is isolated (SharedArrayBuffer); split the cores among workers.
  const threads = self.crossOriginIsolated ? Math.max(1, Math.floor(cores / Math.max(1, size))) : 1;
  return createWorkerPool({
    size,
    init: { wasmPaths: ortAssetBase(), threads, gpu: opts.gpu },
    spawn: spawnOrtWorker,
    // The page's timers: deadlines kept in a hidden tab, and `defer` gathers a burst of runs.
    timers,
  });
}

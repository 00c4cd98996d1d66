/** @peergrid/node-worker: the Node runtime of PeerGrid — donor worker, `peergrid` CLI, executors, workloads. */

export { importIdentityOrNew } from './cli/cli-identity.ts';
export { cliMain } from './cli/main.ts';
export { parseRunArgs, RUN_USAGE, type RunOptions } from './cli/run-args.ts';
export * from './exec/index.ts';
export * from './inputs/index.ts';
export { createDiskBlobCache, type DiskBlobCacheOptions } from './store/disk-blob-cache.ts';
export { type DiskJobStoreOptions, openDiskJobStore } from './store/disk-job-store.ts';
export * from './transport/index.ts';
export {
  connectNodeGridPeer,
  connectSubmitterPeer,
  type NodeGridPeer,
  type NodeGridPeerOptions,
} from './worker/node-grid-peer.ts';
export { loadOrCreateIdentity, nodeSubtle } from './worker/node-identity.ts';
export { runWorker, workerMain } from './worker/run-worker.ts';
export { parseWorkerArgs, WORKER_USAGE, type WorkerOptions } from './worker/worker-args.ts';
export * from './workloads/index.ts';

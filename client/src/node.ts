/**
 * `@peergrid/client` in Node: joins a grid as a submitter (signaling over
 * `ws`, WebRTC through node-datachannel), keeps jobs in a state directory
 * (LMDB) so a restarted program resumes them, and by default joins its own
 * onnxruntime-node executor to each job as an anchor, as `peergrid run` does.
 *
 * ```ts
 * const grid = await connectGrid({ signal: 'ws://localhost:8787', store: './state' });
 * const job = await grid.submit(spec);
 * for await (const p of job.progress()) console.log(p.tasks.verified, '/', p.total);
 * const results = await job.results();
 * await grid.close();
 * ```
 */
import { availableParallelism } from 'node:os';
import {
  connectSubmitterPeer,
  createNodeExecutor,
  importIdentityOrNew,
  type NodeWrtcKind,
  nodeNow,
  nodeSha256,
  nodeTimers,
  openDiskJobStore,
} from '@peergrid/node-worker';
import {
  createGridClient,
  createMemoryJobStore,
  cryptoRandom,
  type Executor,
  type GridClient,
  GridClientError,
  type JobStore,
} from '@peergrid/shared';

import type { ConnectOptionsBase } from './api.ts';

export * from './api.ts';

export interface ConnectGridOptions extends ConnectOptionsBase {
  /**
   * Where jobs are kept: a state directory (created if missing; the same
   * directory `peergrid run --state` uses), or a `JobStore`. Default: in
   * memory, so nothing survives the process.
   */
  readonly store?: string | JobStore;
  /**
   * This process computes a share of each job itself, as an anchor (its
   * results are right by construction), on onnxruntime-node's CPU backend.
   * Without one, a grid of fresh donors cannot make results final. Default true.
   */
  readonly localAnchor?: boolean;
  /** Native WebRTC: node-datachannel (`ndc`) or @roamhq/wrtc (`wrtc`). Default `ndc`. */
  readonly webrtc?: NodeWrtcKind;
}

/**
 * Joins the grid and returns a client to submit through. Throws a
 * `GridClientError`: `connect-failed` when the grid cannot be joined,
 * `store-failed` when the state directory cannot be opened.
 */
export async function connectGrid(o: ConnectGridOptions): Promise<GridClient> {
  const grid = o.grid ?? 'default';
  let store: JobStore;
  const ownStore = typeof o.store === 'string' || o.store === undefined;
  try {
    store =
      typeof o.store === 'string'
        ? await openDiskJobStore(o.store)
        : (o.store ?? createMemoryJobStore());
  } catch (err) {
    throw new GridClientError(
      'store-failed',
      `cannot open the job store ${String(o.store)}: ${(err as Error).message}`,
    );
  }
  let anchor: Executor | undefined;
  try {
    const identity = await importIdentityOrNew(store);
    const peer = await connectSubmitterPeer({
      signal: o.signal,
      grid,
      ...(o.token !== undefined ? { token: o.token } : {}),
      identity,
      ...(o.webrtc ? { webrtc: o.webrtc } : {}),
      ...(o.joinTimeoutMs !== undefined ? { joinTimeoutMs: o.joinTimeoutMs } : {}),
    }).catch((err: unknown) => {
      throw new GridClientError('connect-failed', (err as Error).message);
    });
    if (o.localAnchor ?? true) {
      anchor = createNodeExecutor({
        backend: 'cpu',
        concurrency: Math.max(1, availableParallelism() - 1),
      });
    }
    const local = anchor;
    return await createGridClient({
      peer,
      store,
      platform: { sha256: nodeSha256, now: nodeNow, random: cryptoRandom, timers: nodeTimers },
      ...(local ? { runner: { localAnchor: { executor: local, backend: 'cpu' } } } : {}),
      closeStore: ownStore,
      async closePeer() {
        await peer.shutdown();
        await local?.close();
      },
    });
  } catch (err) {
    await anchor?.close();
    if (ownStore) await store.close().catch(() => {});
    throw err;
  }
}

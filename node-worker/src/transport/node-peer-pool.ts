/**
 * A PeerPool for Node: simple-peer over a native WebRTC implementation
 * (`createNodeWrtc`), Node timers and clock.
 *
 * Teardown: `await pool.shutdown()` closes every link (PeerLink clears the ICE
 * timer simple-peer forgets) and, for a pool that created its own native
 * handle, releases libdatachannel's threads. After that nothing holds the
 * event loop: a process whose other work is done exits by itself (measured:
 * within milliseconds for both implementations). Pools sharing one `native`
 * handle: shut the pools down, then `await native.shutdown()`. A worker
 * handling SIGINT/SIGTERM should still end with `process.exit()`.
 */
import { createHash } from 'node:crypto';
import type { Sha256Hex, SignalChannel, Timers } from '@peergrid/shared';
import {
  createPeerPool,
  type PeerPool,
  type PeerPoolOptions,
  type SimplePeerConstructor,
} from '@peergrid/shared';
import SimplePeer from 'simple-peer';
import { createNodeWrtc, type NodeWrtc, type NodeWrtcKind } from './node-wrtc.ts';

/** Node timers, as the shared core takes them. */
export const nodeTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  defer: (fn) => setImmediate(fn),
};

/** Monotonic ms. */
export const nodeNow = (): number => performance.now();

/** SHA-256 hex (synchronous hashing behind the async Sha256Hex seam). */
export const nodeSha256: Sha256Hex = async (bytes) =>
  createHash('sha256').update(bytes).digest('hex');

export interface NodePeerPoolOptions
  extends Omit<PeerPoolOptions, 'SimplePeer' | 'wrtc' | 'now' | 'timers' | 'signal'> {
  readonly signal: SignalChannel;
  /** WebRTC implementation. Default DEFAULT_NODE_WRTC. */
  readonly webrtc?: NodeWrtcKind;
  /** Share one implementation between pools in a process (tests, benchmarks). */
  readonly native?: NodeWrtc;
}

export interface NodePeerPool extends PeerPool {
  readonly native: NodeWrtc;
  /** Closes the pool and, if it created its own native module handle, releases it. */
  shutdown(): Promise<void>;
}

export async function createNodePeerPool(opts: NodePeerPoolOptions): Promise<NodePeerPool> {
  const native = opts.native ?? (await createNodeWrtc(opts.webrtc));
  const pool = createPeerPool({
    ...opts,
    SimplePeer: SimplePeer as unknown as SimplePeerConstructor,
    wrtc: native.wrtc,
    now: nodeNow,
    timers: nodeTimers,
  });
  return {
    selfId: pool.selfId,
    connect: pool.connect,
    get: pool.get,
    links: pool.links,
    get created() {
      return pool.created;
    },
    stats: pool.stats,
    on: pool.on,
    close: pool.close,
    native,
    async shutdown() {
      pool.close();
      if (!opts.native) await native.shutdown();
    },
  };
}

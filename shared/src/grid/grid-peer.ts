/**
 * A grid peer: one signaling client, one peer pool and one blob exchange,
 * wired so every link that opens (dialled or accepted) serves and fetches
 * blobs. A donor (`createDonorNode`) and a submitter (`createJobRunner`) both
 * sit on one; a page that donates and submits shares a single grid peer.
 */
import type { Capabilities, PeerId } from '../contracts.ts';
import type { BlobCache } from '../peer/blob-cache.ts';
import {
  type BlobExchange,
  type BlobExchangeOptions,
  createBlobExchange,
} from '../peer/blob-exchange.ts';
import type { PeerPool } from '../peer/pool.ts';
import type { Now, Sha256Hex, Timers } from '../platform.ts';
import type { PeerInfo } from '../signaling/messages.ts';

/**
 * The part of the signaling client a grid peer uses: presence and the
 * capabilities it advertises. `SignalingClient` satisfies it.
 */
export interface GridPresence {
  readonly selfId: PeerId;
  peers(): ReadonlyMap<PeerId, PeerInfo>;
  on(event: 'peer-joined' | 'peer-updated', handler: (peer: PeerInfo) => void): () => void;
  on(event: 'peer-left', handler: (id: PeerId) => void): () => void;
  on(event: 'peers', handler: (peers: ReadonlyMap<PeerId, PeerInfo>) => void): () => void;
  updateCapabilities(capabilities: Capabilities): void;
  close(): void;
}

export interface GridPeerOptions {
  /** A signaling client that has joined (or is joining) the grid. Closed by `close()`. */
  readonly signaling: GridPresence;
  /** A peer pool over that client's `SignalChannel`. Closed by `close()`. */
  readonly pool: PeerPool;
  /** Where blobs (models) are kept: IndexedDB in a page, a directory in Node, memory in tests. */
  readonly cache: BlobCache;
  readonly sha256: Sha256Hex;
  readonly now: Now;
  readonly timers: Timers;
  /** Blob exchange limits (piece size, upload cap, …); see `BlobExchangeOptions`. */
  readonly blobOptions?: Omit<BlobExchangeOptions, 'cache' | 'sha256' | 'now' | 'timers'>;
}

export interface GridPeer {
  readonly selfId: PeerId;
  readonly signaling: GridPresence;
  readonly pool: PeerPool;
  readonly blobs: BlobExchange;
  /** Stops attaching new links, closes the pool (every connection) and the signaling client. */
  close(): void;
}

export function createGridPeer(opts: GridPeerOptions): GridPeer {
  const { pool, signaling } = opts;
  const blobs = createBlobExchange({
    ...opts.blobOptions,
    cache: opts.cache,
    sha256: opts.sha256,
    now: opts.now,
    timers: opts.timers,
  });
  for (const link of pool.links()) blobs.attach(link);
  const off = pool.on('link-open', (link) => blobs.attach(link));
  let closed = false;
  return {
    selfId: pool.selfId,
    signaling,
    pool,
    blobs,
    close() {
      if (closed) return;
      closed = true;
      off();
      pool.close();
      signaling.close();
    },
  };
}

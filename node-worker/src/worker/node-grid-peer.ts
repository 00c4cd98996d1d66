/**
 * A grid peer in Node: the signaling client over `ws`, a peer pool over a
 * native RTCPeerConnection whose links are bound to the peers' keys (each
 * offer and answer signed with `identity`), a blob exchange over the given cache. Resolves
 * once the grid is joined. `shutdown()` closes everything and releases the
 * native WebRTC threads; a process should still exit explicitly afterwards.
 */
import { availableParallelism } from 'node:os';
import {
  type BlobCache,
  type BlobExchangeOptions,
  type Capabilities,
  createGridPeer,
  createMemoryBlobCache,
  createSignalingClient,
  type GridPeer,
  type IceServer,
  type IceTransportPolicy,
  type Identity,
  type SignalingClient,
  type WebSocketCtor,
} from '@peergrid/shared';
import WebSocket from 'ws';
import {
  createNodePeerPool,
  type NodePeerPoolOptions,
  nodeNow,
  nodeSha256,
  nodeTimers,
} from '../transport/node-peer-pool.ts';
import { createNodeWrtc, type NodeWrtc, type NodeWrtcKind } from '../transport/node-wrtc.ts';
import { nodeSubtle } from './node-identity.ts';

export interface NodeGridPeerOptions {
  /** ws:// URL of the signaling server. */
  readonly signal: string;
  readonly grid: string;
  readonly token?: string;
  readonly identity: Identity;
  readonly capabilities: Capabilities;
  readonly cache: BlobCache;
  /** Default: node-datachannel (see node-wrtc.ts). */
  readonly webrtc?: NodeWrtcKind;
  /** Share one native module between peers of one process (tests, benchmarks). */
  readonly native?: NodeWrtc;
  /** Pool limits (maxOpen, connect timeout, link heartbeat…). */
  readonly pool?: Omit<
    NodePeerPoolOptions,
    'signal' | 'webrtc' | 'native' | 'iceServers' | 'auth' | 'iceTransportPolicy'
  >;
  /** `relay`: links through the grid's TURN server only (`--ice-relay`). Default `all`. */
  readonly iceTransportPolicy?: IceTransportPolicy;
  readonly blobOptions?: GridPeerBlobOptions;
  /** Give up joining after this long, ms. Default 15 000. */
  readonly joinTimeoutMs?: number;
}

type GridPeerBlobOptions = Omit<BlobExchangeOptions, 'cache' | 'sha256' | 'now' | 'timers'>;

export interface NodeGridPeer extends GridPeer {
  readonly signaling: SignalingClient;
  shutdown(): Promise<void>;
}

export async function connectNodeGridPeer(o: NodeGridPeerOptions): Promise<NodeGridPeer> {
  // Load the native module first: the pool must listen before the first signal can arrive.
  const native = o.native ?? (await createNodeWrtc(o.webrtc));
  /** Filled from the join reply; the pool reads it per connection. */
  const iceServers: IceServer[] = [];
  const signaling = createSignalingClient({
    url: o.signal,
    grid: o.grid,
    identity: o.identity,
    capabilities: o.capabilities,
    ...(o.token !== undefined ? { token: o.token } : {}),
    WebSocket: WebSocket as unknown as WebSocketCtor,
    timers: nodeTimers,
    random: Math.random,
    now: nodeNow,
  });
  const pool = await createNodePeerPool({
    ...o.pool,
    signal: signaling,
    iceServers,
    native,
    auth: { identity: o.identity, subtle: nodeSubtle },
    ...(o.iceTransportPolicy ? { iceTransportPolicy: o.iceTransportPolicy } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    const timeoutMs = o.joinTimeoutMs ?? 15_000;
    const timer = setTimeout(() => {
      done();
      signaling.close();
      void pool.shutdown();
      reject(new Error(`could not join grid '${o.grid}' at ${o.signal} in ${timeoutMs} ms`));
    }, timeoutMs);
    const offs = [
      signaling.on('ready', () => {
        iceServers.splice(0, iceServers.length, ...signaling.iceServers);
        done();
        resolve();
      }),
      signaling.on('closed', (e) => {
        done();
        void pool.shutdown();
        reject(new Error(`signaling refused: ${e.code}: ${e.message}`));
      }),
    ];
    const done = () => {
      clearTimeout(timer);
      for (const off of offs) off();
    };
  });
  const peer = createGridPeer({
    signaling,
    pool,
    cache: o.cache,
    sha256: nodeSha256,
    now: nodeNow,
    timers: nodeTimers,
    blobOptions: { random: Math.random, ...o.blobOptions },
  });
  return {
    ...peer,
    signaling,
    async shutdown() {
      peer.close();
      await pool.shutdown();
      if (!o.native) await native.shutdown();
    },
  };
}

/**
 * A grid peer that submits and does not donate (no slots advertised), with
 * blobs (the job's models and shared feeds) kept in memory: `peergrid run`'s
 * and `@peergrid/client`'s.
 */
export function connectSubmitterPeer(
  o: Omit<NodeGridPeerOptions, 'capabilities' | 'cache'>,
): Promise<NodeGridPeer> {
  return connectNodeGridPeer({
    ...o,
    capabilities: {
      runtime: 'node',
      backends: [],
      cores: availableParallelism(),
      memoryMB: 0,
      maxConcurrency: 0,
    },
    cache: createMemoryBlobCache(),
  });
}

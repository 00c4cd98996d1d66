/**
 * The slice of simple-peer that PeerGrid uses, so `shared/` compiles without
 * its types and tests can pass an in-memory pair. Both runtimes pass the real
 * `simple-peer` constructor (with a native RTCPeerConnection as `wrtc` in Node).
 */
import type { Timers } from '../platform.ts';
import type { IceServer } from '../signaling/messages.ts';

/** The RTCDataChannel fields used for backpressure. */
export interface DataChannelLike {
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold?: number;
  addEventListener?(type: 'bufferedamountlow', fn: () => void): void;
  removeEventListener?(type: 'bufferedamountlow', fn: () => void): void;
}

export interface SimplePeerLike {
  send(data: Uint8Array): void;
  signal(data: unknown): void;
  destroy(err?: Error): void;
  on(event: 'signal', fn: (data: unknown) => void): unknown;
  on(event: 'connect' | 'close', fn: () => void): unknown;
  on(event: 'data', fn: (data: Uint8Array) => void): unknown;
  on(event: 'error', fn: (err: Error) => void): unknown;
  readonly destroyed?: boolean;
  /** simple-peer's private ICE timer, which its destroy() forgets to clear (it holds a Node process ~5 s). */
  readonly _iceCompleteTimer?: unknown;
  /** simple-peer's private data channel; read for `bufferedAmount`. */
  readonly _channel?: DataChannelLike | null;
  /** simple-peer's private RTCPeerConnection; read for the remote description it applied. */
  readonly _pc?: { readonly remoteDescription?: { readonly sdp?: string } | null } | null;
}

/** The SDP of the remote description the connection applied, if it can be read. */
export function appliedRemoteSdp(peer: SimplePeerLike): string | undefined {
  try {
    const sdp = peer._pc?.remoteDescription?.sdp;
    return typeof sdp === 'string' && sdp.length > 0 ? sdp : undefined;
  } catch {
    return undefined; // an implementation whose getter throws once closed
  }
}

/** RTCIceTransportPolicy: `relay` gathers TURN candidates only. */
export type IceTransportPolicy = 'all' | 'relay';

/** The options PeerGrid passes to `new SimplePeer(opts)`. */
export interface SimplePeerOptions {
  readonly initiator: boolean;
  readonly trickle: boolean;
  readonly wrtc?: unknown;
  readonly config?: {
    readonly iceServers: readonly IceServer[];
    readonly iceTransportPolicy?: IceTransportPolicy;
  };
  readonly channelConfig?: { readonly ordered: boolean };
}

export type SimplePeerConstructor = new (opts: SimplePeerOptions) => SimplePeerLike;

/** Destroys a peer and clears what simple-peer leaves behind, so nothing keeps a process alive. */
export function destroyPeer(peer: SimplePeerLike, timers: Timers): void {
  try {
    peer.destroy();
  } catch {
    // Already torn down.
  }
  if (peer._iceCompleteTimer !== undefined && peer._iceCompleteTimer !== null) {
    timers.clearTimeout(peer._iceCompleteTimer);
  }
}

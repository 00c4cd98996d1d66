/**
 * A hostile signaling relay for tests: it delivers signals between pools in
 * this process and stamps the sender, as the real server does, but a test
 * may rewrite, drop, replay or re-address anything it relays. Mallory, the
 * relay's operator, can make real descriptions of her own (`ownOffer`,
 * `ownAnswer`) with the same native WebRTC as the peers, and sign them with
 * her own key.
 */
import type { PeerId, SignalChannel, SimplePeerConstructor } from '@peergrid/shared';
import SimplePeer from 'simple-peer';
import type { NodeWrtc } from '../../src/transport/node-wrtc.ts';

export interface Relayed {
  readonly from: PeerId;
  readonly to: PeerId;
  readonly data: unknown;
}

/**
 * Returns what to deliver instead of `sig` (empty: drop it); undefined: relay
 * it as is. Signals are relayed in order, each after the tamper before it.
 */
export type Tamper = (sig: Relayed) => Relayed[] | undefined | Promise<Relayed[] | undefined>;

export interface HostileRelay {
  channel(selfId: PeerId): SignalChannel;
  /** Every signal peers sent through the relay, in order. */
  readonly sent: readonly Relayed[];
  /** Delivers a signal as if `from` had sent it. */
  inject(sig: Relayed): void;
  tamper: Tamper | undefined;
}

export function createHostileRelay(): HostileRelay {
  const handlers = new Map<PeerId, Set<(from: PeerId, data: unknown) => void>>();
  const sent: Relayed[] = [];
  let queue: Promise<void> = Promise.resolve();
  const deliver = (sig: Relayed) => {
    // A JSON round trip, as over a socket.
    const copy: unknown = JSON.parse(JSON.stringify(sig.data));
    setImmediate(() => {
      for (const h of handlers.get(sig.to) ?? []) h(sig.from, copy);
    });
  };
  const relay: HostileRelay = {
    sent,
    tamper: undefined,
    inject: deliver,
    channel(selfId) {
      return {
        selfId,
        sendSignal(to, data) {
          const sig: Relayed = { from: selfId, to, data: JSON.parse(JSON.stringify(data)) };
          sent.push(sig);
          const tamper = relay.tamper;
          queue = queue.then(async () => {
            const out = await tamper?.(sig);
            for (const s of out ?? [sig]) deliver(s);
          });
        },
        onSignal(handler) {
          let set = handlers.get(selfId);
          if (!set) {
            set = new Set();
            handlers.set(selfId, set);
          }
          set.add(handler);
          return () => set.delete(handler);
        },
      };
    },
  };
  return relay;
}

type Desc = { type: 'offer' | 'answer'; sdp: string };

/** Mallory's own RTCPeerConnections, whose descriptions she swaps in. */
export function createMallory(native: NodeWrtc) {
  const peers: InstanceType<typeof SimplePeer>[] = [];
  let connected = 0;
  const Peer = SimplePeer as unknown as SimplePeerConstructor;
  const make = (initiator: boolean) => {
    const p = new Peer({ initiator, trickle: true, wrtc: native.wrtc, config: { iceServers: [] } });
    p.on('connect', () => connected++);
    p.on('error', () => {});
    peers.push(p as unknown as InstanceType<typeof SimplePeer>);
    return p;
  };
  const firstDescription = (p: ReturnType<typeof make>) =>
    new Promise<Desc>((resolve) => {
      p.on('signal', (d) => {
        const desc = d as Partial<Desc>;
        if ((desc.type === 'offer' || desc.type === 'answer') && typeof desc.sdp === 'string') {
          resolve({ type: desc.type, sdp: desc.sdp });
        }
      });
    });
  return {
    /** A fresh offer of Mallory's own. */
    ownOffer: () => firstDescription(make(true)),
    /** Mallory's own answer to `offer`. */
    ownAnswer: (offer: unknown) => {
      const p = make(false);
      const answer = firstDescription(p);
      p.signal(offer);
      return answer;
    },
    /** Channels Mallory's connections opened (each would be a link posing as a peer). */
    connected: () => connected,
    close() {
      for (const p of peers) p.destroy();
    },
  };
}

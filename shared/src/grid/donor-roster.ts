/**
 * Which donors a job may use right now: presence (joined, updated, left)
 * turned into the engine's `donorAvailable`/`donorGone`, with donors whose
 * link failed set aside for a while and offered again if still present.
 */
import type { PeerId } from '../contracts.ts';
import type { DonorInfo } from '../job/types.ts';
import type { PeerPool } from '../peer/pool.ts';
import type { Timers } from '../platform.ts';
import type { PeerInfo } from '../signaling/messages.ts';
import type { GridPresence } from './grid-peer.ts';

export interface DonorRosterOptions {
  readonly presence: GridPresence;
  readonly pool: Pick<PeerPool, 'on'>;
  readonly timers: Timers;
  readonly isDonor: (peer: PeerInfo) => boolean;
  /** Donors whose results are right by construction (offered with `anchor`). Default none. */
  readonly isAnchor?: (id: PeerId) => boolean;
  /** The engine sees `maxConcurrency × pipeline` slots per donor. */
  readonly pipeline: number;
  /** A donor set aside is offered again after this long, ms. */
  readonly retryDonorMs: number;
  readonly available: (info: DonorInfo) => void;
  readonly gone: (id: PeerId) => void;
}

export interface DonorRoster {
  /** Offers every present donor and follows presence from now on. */
  start(): void;
  /** The donor is unreachable or leaving: withdrawn now, offered again later if still present. */
  setAside(id: PeerId): void;
  close(): void;
}

export function createDonorRoster(o: DonorRosterOptions): DonorRoster {
  const offered = new Set<PeerId>();
  const cooling = new Set<PeerId>();
  const offs: (() => void)[] = [];
  let closed = false;

  function withdraw(id: PeerId): void {
    if (offered.delete(id)) o.gone(id);
  }

  function offer(info: PeerInfo): void {
    if (closed) return;
    if (!o.isDonor(info)) {
      withdraw(info.id);
      return;
    }
    if (cooling.has(info.id)) return;
    offered.add(info.id);
    const caps = info.capabilities;
    o.available({
      id: info.id,
      capabilities: { ...caps, maxConcurrency: caps.maxConcurrency * o.pipeline },
      ...(o.isAnchor?.(info.id) ? { anchor: true } : {}),
    });
  }

  return {
    start() {
      offs.push(
        o.presence.on('peer-joined', offer),
        o.presence.on('peer-updated', offer),
        o.presence.on('peer-left', withdraw),
        o.presence.on('peers', (ps) => {
          for (const p of ps.values()) offer(p);
        }),
        o.pool.on('link-closed', (id) => this.setAside(id)),
      );
      for (const p of o.presence.peers().values()) offer(p);
    },
    setAside(id) {
      if (cooling.has(id) || closed) return;
      withdraw(id);
      cooling.add(id);
      o.timers.setTimeout(() => {
        cooling.delete(id);
        const info = o.presence.peers().get(id);
        if (info) offer(info);
      }, o.retryDonorMs);
    },
    close() {
      closed = true;
      for (const off of offs.splice(0)) off();
    },
  };
}

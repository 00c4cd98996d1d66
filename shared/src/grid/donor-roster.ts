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
  /** Leases the engine may keep in flight to a donor (its window; see `leaseWindow`). */
  readonly slotsFor: (info: PeerInfo) => number;
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
  /** Offers again every donor whose `slotsFor` changed since it was offered. */
  refresh(): void;
  close(): void;
}

export function createDonorRoster(o: DonorRosterOptions): DonorRoster {
  /** Offered donors and the slots they were offered with. */
  const offered = new Map<PeerId, number>();
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
    const slots = Math.max(1, o.slotsFor(info));
    offered.set(info.id, slots);
    o.available({
      id: info.id,
      capabilities: { ...info.capabilities, maxConcurrency: slots },
      // The window may exceed what it runs at once: its speed is per run.
      runs: info.capabilities.maxConcurrency,
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
    refresh() {
      for (const [id, slots] of offered) {
        const info = o.presence.peers().get(id);
        if (info && Math.max(1, o.slotsFor(info)) !== slots) offer(info);
      }
    },
    close() {
      closed = true;
      for (const off of offs.splice(0)) off();
    },
  };
}

/**
 * The grid bus: membership, presence fan-out and relay between peers of one
 * grid. The connection handler talks only to this interface; the in-memory
 * bus serves one process, and a Redis-backed bus (pub/sub + a presence hash)
 * can serve several processes behind a load balancer without touching the
 * handler.
 */
import type { PeerId, PeerInfo } from '@peergrid/shared';

/** One local socket as the bus sees it. */
export interface PeerSink {
  /** Delivers one serialized server→client message. */
  send(text: string): void;
  /** The same key joined the same grid on another socket: close this one. */
  replaced(): void;
}

export type BusJoinResult =
  | { readonly ok: true; readonly peers: readonly PeerInfo[] }
  | { readonly ok: false; readonly code: 'grid-full' | 'server-full' };

export interface GridBus {
  /**
   * Adds `peer` to `grid` (or replaces the member with the same id, whose sink
   * gets `replaced()`), tells the other members, and returns them.
   */
  join(grid: string, peer: PeerInfo, sink: PeerSink): BusJoinResult | Promise<BusJoinResult>;
  /** New capabilities of a member. */
  update(grid: string, peer: PeerInfo, sink: PeerSink): void;
  /** Removes the member when `sink` is still the current one (a replaced socket leaves nothing). */
  leave(grid: string, id: PeerId, sink: PeerSink): void;
  /** Delivers a serialized `signal` message to `to`; false when `to` is not in the grid. */
  relay(grid: string, to: PeerId, text: string): boolean | Promise<boolean>;
  stats(): { readonly peers: number; readonly grids: number };
  close(): Promise<void>;
}

export interface MemoryBusLimits {
  readonly peersPerGrid: number;
  readonly gridsPerServer: number;
}

interface Member {
  info: PeerInfo;
  sink: PeerSink;
}

export function createMemoryBus(limits: MemoryBusLimits): GridBus {
  const grids = new Map<string, Map<PeerId, Member>>();
  let peers = 0;

  function broadcast(members: Map<PeerId, Member>, except: PeerId, text: string): void {
    for (const [id, m] of members) if (id !== except) m.sink.send(text);
  }

  return {
    join(grid, info, sink) {
      let members = grids.get(grid);
      const old = members?.get(info.id);
      if (!old) {
        if (!members && grids.size >= limits.gridsPerServer)
          return { ok: false, code: 'server-full' };
        if (members && members.size >= limits.peersPerGrid) return { ok: false, code: 'grid-full' };
      }
      if (!members) {
        members = new Map();
        grids.set(grid, members);
      }
      const snapshot: PeerInfo[] = [];
      for (const [id, m] of members) if (id !== info.id) snapshot.push(m.info);
      members.set(info.id, { info, sink });
      if (old) {
        old.sink.replaced();
        broadcast(members, info.id, JSON.stringify({ type: 'peer-updated', peer: info }));
      } else {
        peers += 1;
        broadcast(members, info.id, JSON.stringify({ type: 'peer-joined', peer: info }));
      }
      return { ok: true, peers: snapshot };
    },
    update(grid, info, sink) {
      const members = grids.get(grid);
      const m = members?.get(info.id);
      if (!members || !m || m.sink !== sink) return;
      m.info = info;
      broadcast(members, info.id, JSON.stringify({ type: 'peer-updated', peer: info }));
    },
    leave(grid, id, sink) {
      const members = grids.get(grid);
      if (!members || members.get(id)?.sink !== sink) return;
      members.delete(id);
      peers -= 1;
      if (members.size === 0) grids.delete(grid);
      else broadcast(members, id, JSON.stringify({ type: 'peer-left', id }));
    },
    relay(grid, to, text) {
      const m = grids.get(grid)?.get(to);
      if (!m) return false;
      m.sink.send(text);
      return true;
    },
    stats: () => ({ peers, grids: grids.size }),
    close: async () => {
      grids.clear();
      peers = 0;
    },
  };
}

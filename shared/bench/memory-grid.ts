/**
 * An in-memory grid for benchmarks: pools whose connect() joins two PeerLinks
 * over memory peers, and a presence list; real timers (Node).
 */
import type { Capabilities } from '../src/contracts.ts';
import { PeerGridError } from '../src/errors.ts';
import { createGridPeer, type GridPeer, type GridPresence } from '../src/grid/grid-peer.ts';
import { createMemoryBlobCache } from '../src/peer/blob-cache.ts';
import { createPeerLink, type PeerLink } from '../src/peer/link.ts';
import { createMemoryPeerPair } from '../src/peer/memory.ts';
import type { PeerPool } from '../src/peer/pool.ts';
import type { Now, Sha256Hex, Timers } from '../src/platform.ts';
import type { PeerInfo } from '../src/signaling/messages.ts';

export function createBenchGrid(env: { now: Now; timers: Timers; sha256: Sha256Hex }) {
  const pools = new Map<string, { add(l: PeerLink): void }>();
  const infos = new Map<string, PeerInfo>();
  const presenceHandlers = new Set<{ event: string; h: (x: never) => void }>();
  const emit = (event: string, x: unknown) => {
    for (const p of presenceHandlers) if (p.event === event) (p.h as (v: unknown) => void)(x);
  };
  const allLinks: PeerLink[] = [];

  function makePool(selfId: string): PeerPool {
    const links = new Map<string, PeerLink>();
    const open = new Set<(l: PeerLink) => void>();
    const closed = new Set<(id: string) => void>();
    const add = (l: PeerLink) => {
      links.set(l.remoteId, l);
      allLinks.push(l);
      l.onClose(() => {
        links.delete(l.remoteId);
        for (const h of closed) h(l.remoteId);
      });
      for (const h of open) h(l);
    };
    const pool = {
      selfId,
      created: 0,
      get: (id: string) => links.get(id),
      links: () => [...links.values()],
      async connect(id: string) {
        const have = links.get(id);
        if (have) return have;
        const other = pools.get(id);
        if (!other) throw new PeerGridError('connect-failed', `${id} is not there`);
        const [a, b] = createMemoryPeerPair();
        const la = createPeerLink({ peer: a, remoteId: id, now: env.now, timers: env.timers });
        const lb = createPeerLink({ peer: b, remoteId: selfId, now: env.now, timers: env.timers });
        add(la);
        other.add(lb);
        return la;
      },
      on(event: string, h: never) {
        const set = (event === 'link-open' ? open : closed) as Set<unknown>;
        set.add(h);
        return () => set.delete(h);
      },
      close() {
        for (const l of [...links.values()]) l.close();
        pools.delete(selfId);
      },
    } as unknown as PeerPool;
    pools.set(selfId, { add });
    return pool;
  }

  function join(id: string, capabilities: Capabilities): GridPeer {
    const presence = {
      selfId: id,
      peers: () => new Map([...infos].filter(([k]) => k !== id)),
      on(event: string, h: (x: never) => void) {
        const entry = { event, h };
        presenceHandlers.add(entry);
        return () => presenceHandlers.delete(entry);
      },
      updateCapabilities() {},
      close() {
        if (infos.delete(id)) emit('peer-left', id);
      },
    } as unknown as GridPresence;
    const peer = createGridPeer({
      signaling: presence,
      pool: makePool(id),
      cache: createMemoryBlobCache(),
      sha256: env.sha256,
      now: env.now,
      timers: env.timers,
    });
    const info: PeerInfo = { id, publicKey: 'k', capabilities };
    infos.set(id, info);
    emit('peer-joined', info);
    return peer;
  }

  const close = () => {
    for (const l of allLinks) l.close();
  };
  return { join, close };
}

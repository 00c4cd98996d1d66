import type {
  Capabilities,
  GridPresence,
  PeerId,
  PeerInfo,
  PeerLink,
  PeerPool,
} from '@peergrid/shared';

/**
 * The submitter's view of the grid, with this tab in it: every tab donates,
 * to its own jobs too. Presence lists this tab beside the signaling peers
 * (and announces its capability changes to the job runners), and the pool
 * hands out the in-memory loopback link for this tab's own id.
 */
export interface SelfView {
  readonly presence: GridPresence;
  readonly pool: PeerPool;
  /** Tells the job runners this tab's capabilities changed (workers, pause, GPU). */
  selfChanged(): void;
}

type Handler = (arg: never) => void;

export function createSelfView(o: {
  readonly signaling: GridPresence;
  readonly pool: PeerPool;
  readonly self: () => PeerInfo;
  readonly loopback: PeerLink;
}): SelfView {
  const { signaling, pool } = o;
  const updated = new Set<(p: PeerInfo) => void>();
  const presence: GridPresence = {
    selfId: signaling.selfId,
    peers() {
      const all = new Map<PeerId, PeerInfo>(signaling.peers());
      all.set(signaling.selfId, o.self());
      return all;
    },
    on(
      event: 'peer-joined' | 'peer-updated' | 'peer-left' | 'peers',
      handler: Handler,
    ): () => void {
      const off = (signaling.on as (e: string, h: Handler) => () => void)(event, handler);
      if (event !== 'peer-updated') return off;
      const h = handler as (p: PeerInfo) => void;
      updated.add(h);
      return () => {
        off();
        updated.delete(h);
      };
    },
    updateCapabilities: (c: Capabilities) => signaling.updateCapabilities(c),
    close: () => signaling.close(),
  } as GridPresence;
  const selfPool: PeerPool = {
    selfId: pool.selfId,
    connect: (id) => (id === pool.selfId ? Promise.resolve(o.loopback) : pool.connect(id)),
    get: (id) => (id === pool.selfId ? o.loopback : pool.get(id)),
    links: () => pool.links(),
    get created() {
      return pool.created;
    },
    stats: () => pool.stats(),
    on: (event, handler) => pool.on(event, handler),
    close: () => pool.close(),
  };
  return {
    presence,
    pool: selfPool,
    selfChanged() {
      const me = o.self();
      for (const h of [...updated]) h(me);
    },
  };
}

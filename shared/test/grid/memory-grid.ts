/**
 * An in-memory grid for runner tests and benchmarks: pools whose connect()
 * joins two PeerLinks over memory peers, and a presence list. Tests pass
 * virtual time, benchmarks real timers. No vitest import: benches load it.
 */
import {
  type Capabilities,
  createGridPeer,
  createMemoryBlobCache,
  createMemoryPeerPair,
  createPeerLink,
  type Executor,
  type GridPeer,
  type GridPresence,
  type Now,
  PeerGridError,
  type PeerInfo,
  type PeerLink,
  type PeerPool,
  type Sha256Hex,
  type Timers,
  tensorFrom,
  tensorValues,
} from '../../src/index.ts';

/** Clock, timers and hash of every peer on the grid (virtual time in tests). */
export interface MemoryGridEnv {
  readonly now: Now;
  readonly timers: Timers;
  readonly sha256: Sha256Hex;
}

/** `join` adds a grid peer; `close` closes every link made so far. */
export function createMemoryGrid(env: MemoryGridEnv) {
  const pools = new Map<string, { pool: PeerPool; add(l: PeerLink): void }>();
  /** Peer protocol a peer's links speak (an older peer's), by id; default the current one. */
  const protocols = new Map<string, number>();
  const protocolOf = (id: string) => {
    const p = protocols.get(id);
    return p === undefined ? {} : { protocol: p };
  };
  const infos = new Map<string, PeerInfo>();
  const presenceHandlers = new Set<{ event: string; h: (x: never) => void }>();
  const emit = (event: string, x: unknown) => {
    for (const p of presenceHandlers) if (p.event === event) (p.h as (v: unknown) => void)(x);
  };
  const allLinks: PeerLink[] = [];

  function makePool(selfId: string) {
    const links = new Map<string, PeerLink>();
    const handlers = {
      open: new Set<(l: PeerLink) => void>(),
      closed: new Set<(id: string) => void>(),
    };
    const add = (l: PeerLink) => {
      links.set(l.remoteId, l);
      allLinks.push(l);
      l.onClose((r) => {
        links.delete(l.remoteId);
        for (const h of handlers.closed) h(l.remoteId);
        void r;
      });
      for (const h of handlers.open) h(l);
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
        const la = createPeerLink({
          peer: a,
          remoteId: id,
          now: env.now,
          timers: env.timers,
          ...protocolOf(selfId),
        });
        const lb = createPeerLink({
          peer: b,
          remoteId: selfId,
          now: env.now,
          timers: env.timers,
          ...protocolOf(id),
        });
        add(la);
        other.add(lb);
        return la;
      },
      on(event: string, h: never) {
        const set = (event === 'link-open' ? handlers.open : handlers.closed) as Set<unknown>;
        set.add(h);
        return () => set.delete(h);
      },
      close() {
        for (const l of [...links.values()]) l.close();
        pools.delete(selfId);
      },
    } as unknown as PeerPool;
    pools.set(selfId, { pool, add });
    return pool;
  }

  function join(
    id: string,
    capabilities: Capabilities,
    o: { readonly protocol?: number } = {},
  ): GridPeer {
    if (o.protocol !== undefined) protocols.set(id, o.protocol);
    const presence: GridPresence = {
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
    } as GridPresence;
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

export const donorCaps: Capabilities = {
  runtime: 'node',
  backends: ['cpu'],
  cores: 1,
  memoryMB: 64,
  maxConcurrency: 1,
};

/** y = x + 1 (int32); counts runs per input value. */
export function plusOneExecutor(
  runs: Map<number, number>,
  wrong = false,
  /** Each run takes this long on these timers (virtual time in tests). Default: no time. */
  delay?: { readonly timers: Timers; readonly ms: number },
): Executor {
  return {
    concurrency: 1,
    backends: async () => ['cpu'],
    close: async () => {},
    async run(req) {
      if (delay) await new Promise<void>((r) => delay.timers.setTimeout(r, delay.ms));
      const x = tensorValues(req.feeds.x!) as Int32Array;
      runs.set(x[0]!, (runs.get(x[0]!) ?? 0) + 1);
      const y = Int32Array.from(x, (v) => v + (wrong ? 100 : 1));
      return { outputs: { y: tensorFrom('int32', [y.length], y) }, backend: 'cpu', computeMs: 1 };
    },
  };
}

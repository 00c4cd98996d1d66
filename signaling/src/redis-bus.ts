/**
 * A GridBus shared by several signaling processes through Redis (ioredis).
 *
 * Presence lives in one Redis hash per grid, changed only by the Lua scripts
 * of `redis-scripts.ts`; presence events go out on one pub/sub channel per
 * grid (an instance subscribes while it holds a member of that grid); a relay
 * to a peer on another instance goes to that instance's own channel.
 *
 * Semantics of the limits with several instances: `peersPerGrid` is counted
 * over all instances, atomically (the join script checks and adds in one
 * step); `gridsPerServer` counts the grids that have members on this instance.
 * `stats()` reports this instance's own peers and grids.
 *
 * Failure: every instance refreshes `alive:<id>` (TTL = `instanceTtlMs`) each
 * `heartbeatMs`, and checks the others; the first survivor to see a dead
 * instance's key gone removes that instance's peers and announces them as
 * left. Their clients reconnect to another instance and re-join with the same
 * key (same id).
 */
import { randomBytes } from 'node:crypto';
import type { PeerId, PeerInfo } from '@peergrid/shared';
import { Redis } from 'ioredis';
import type { BusJoinResult, GridBus, MemoryBusLimits, PeerSink } from './bus.ts';
import { createOutbox } from './redis-outbox.ts';
import { cleanupInstance, JOIN_SCRIPT, LEAVE_SCRIPT, UPDATE_SCRIPT } from './redis-scripts.ts';

export interface RedisBusOptions {
  /** redis:// URL. */
  readonly url: string;
  readonly limits: MemoryBusLimits;
  /** Prefix of every key and channel; instances sharing a prefix form one cluster. Default `peergrid:`. */
  readonly keyPrefix?: string;
  /** Heartbeat and dead-instance check period, ms. Default 1 000. */
  readonly heartbeatMs?: number;
  /** An instance whose heartbeat key is this old is dead, ms. Default 5 × heartbeatMs. */
  readonly instanceTtlMs?: number;
  /** Messages buffered for a member whose join is still settling. Default 4 096. */
  readonly pendingMax?: number;
  readonly log?: (line: string) => void;
}

interface Member {
  info: PeerInfo;
  sink: PeerSink;
  tag: string;
  /** Messages that arrived before `joined` was sent; null once flushed. */
  buffer: string[] | null;
}

interface LocalGrid {
  readonly members: Map<PeerId, Member>;
  readonly subscribed: Promise<unknown>;
}

export type RedisGridBus = GridBus & { readonly instanceId: string };

export async function createRedisBus(opts: RedisBusOptions): Promise<RedisGridBus> {
  const P = opts.keyPrefix ?? 'peergrid:';
  const heartbeatMs = opts.heartbeatMs ?? 1_000;
  const ttlMs = opts.instanceTtlMs ?? heartbeatMs * 5;
  const pendingMax = opts.pendingMax ?? 4_096;
  const me = randomBytes(8).toString('hex');
  const gridKey = (g: string) => `${P}grid:${g}`;
  const peersKey = (i: string) => `${P}peers:${i}`;
  const aliveKey = (i: string) => `${P}alive:${i}`;
  const gridChan = (g: string) => `${P}g:${g}`;
  const instChan = (i: string) => `${P}i:${i}`;
  const instancesKey = `${P}instances`;

  // Auto-pipelining: commands issued in one tick (a burst of relays) leave in one write.
  const redis = new Redis(opts.url, { lazyConnect: true, enableAutoPipelining: true });
  const sub = new Redis(opts.url, { lazyConnect: true });
  // Heartbeats on their own connection: never queued behind a burst of joins.
  const hb = new Redis(opts.url, { lazyConnect: true });
  for (const c of [redis, sub, hb]) c.on('error', (e) => opts.log?.(`redis: ${e.message}`));
  await Promise.all([redis.connect(), sub.connect(), hb.connect()]);

  const local = new Map<string, LocalGrid>();
  /**
   * Where remote peers live (`<grid> <id>` → instance), so a relay costs one
   * PUBLISH instead of HGET + PUBLISH. Any presence event about a peer drops its
   * entry (a relay's sender is a local member, so we hear that grid's events).
   */
  const where = new Map<string, string>();
  const WHERE_MAX = 100_000;
  let localPeers = 0;
  let seq = 0;
  let closed = false;

  const deliver = (m: Member, text: string) => {
    if (!m.buffer) m.sink.send(text);
    else if (m.buffer.length < pendingMax) m.buffer.push(text);
  };
  const deliverLocal = (grid: string, except: string, text: string) => {
    const g = local.get(grid);
    if (g) for (const [id, m] of g.members) if (id !== except) deliver(m, text);
  };
  /** Local members hear it now; other instances through the grid channel. */
  const broadcast = (grid: string, except: string, text: string) => {
    where.delete(`${grid} ${except}`);
    deliverLocal(grid, except, text);
    redis.publish(gridChan(grid), `${me} ${except} ${text}`).catch(() => {});
  };
  const peerLeft = (grid: string, id: string) =>
    broadcast(grid, id, JSON.stringify({ type: 'peer-left', id }));

  sub.on('message', (channel: string, msg: string) => {
    if (channel === instChan(me)) return onDirect(msg);
    const a = msg.indexOf(' ');
    const b = msg.indexOf(' ', a + 1);
    if (a < 0 || b < 0 || msg.slice(0, a) === me) return;
    const grid = channel.slice(P.length + 2);
    const subject = msg.slice(a + 1, b);
    where.delete(`${grid} ${subject}`);
    deliverLocal(grid, subject, msg.slice(b + 1));
  });

  /** Lines of `r <grid> <to> <text>` (a relay) or `x <grid> <id> <tag>` (that member was replaced elsewhere). */
  function onDirect(batch: string): void {
    for (const line of batch.split('\n')) onDirectLine(line);
  }
  function onDirectLine(msg: string): void {
    const [kind, grid = '', id = ''] = msg.split(' ', 3);
    const rest = msg.slice(kind!.length + grid.length + id.length + 3);
    const m = local.get(grid)?.members.get(id);
    if (!m) return;
    if (kind === 'r') deliver(m, rest);
    else if (kind === 'x' && m.tag === rest) {
      removeLocal(grid, id);
      redis.srem(peersKey(me), `${grid} ${id}`).catch(() => {});
      m.sink.replaced();
    }
  }

  function removeLocal(grid: string, id: PeerId): void {
    const g = local.get(grid);
    if (!g?.members.delete(id)) return;
    localPeers -= 1;
    if (g.members.size === 0) {
      local.delete(grid);
      sub.unsubscribe(gridChan(grid)).catch(() => {});
    }
  }

  const entryOf = (m: Member) => `${m.tag} ${JSON.stringify(m.info)}`;
  const tagOf = (entry: string) => entry.slice(0, entry.indexOf(' '));
  const instOf = (entry: string) => entry.slice(0, entry.indexOf('.'));

  async function join(grid: string, info: PeerInfo, sink: PeerSink): Promise<BusJoinResult> {
    let g = local.get(grid);
    if (!g) {
      if (local.size >= opts.limits.gridsPerServer) return { ok: false, code: 'server-full' };
      g = { members: new Map(), subscribed: sub.subscribe(gridChan(grid)) };
      local.set(grid, g);
    }
    const prev = g.members.get(info.id);
    const m: Member = { info, sink, tag: `${me}.${++seq}`, buffer: [] };
    g.members.set(info.id, m);
    if (!prev) localPeers += 1;
    const undo = () => {
      if (g.members.get(info.id) !== m) return;
      if (prev) g.members.set(info.id, prev);
      else removeLocal(grid, info.id);
    };
    let res: [number, string?, string[]?];
    try {
      await g.subscribed;
      res = (await redis.eval(
        JOIN_SCRIPT,
        2,
        gridKey(grid),
        peersKey(me),
        info.id,
        entryOf(m),
        opts.limits.peersPerGrid,
        `${grid} ${info.id}`,
      )) as typeof res;
    } catch (err) {
      undo();
      throw err;
    }
    if (res[0] !== 1) {
      undo();
      return { ok: false, code: 'grid-full' };
    }
    const old = res[1] ?? '';
    const flat = res[2] ?? [];
    const peers: PeerInfo[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      if (flat[i] === info.id) continue;
      const e = flat[i + 1]!;
      peers.push(JSON.parse(e.slice(e.indexOf(' ') + 1)) as PeerInfo);
    }
    if (old) {
      if (prev && prev.tag === tagOf(old)) prev.sink.replaced();
      else if (instOf(old) !== me) {
        redis.publish(instChan(instOf(old)), `x ${grid} ${info.id} ${tagOf(old)}`).catch(() => {});
      }
      broadcast(grid, info.id, JSON.stringify({ type: 'peer-updated', peer: info }));
    } else {
      broadcast(grid, info.id, JSON.stringify({ type: 'peer-joined', peer: info }));
    }
    // Flush after the caller has sent `joined` (its continuation runs in this microtask turn).
    setImmediate(() => {
      const buffered = m.buffer ?? [];
      m.buffer = null;
      if (g.members.get(info.id) === m) for (const t of buffered) sink.send(t);
    });
    return { ok: true, peers };
  }

  const outbox = createOutbox(redis, instChan, (inst) => {
    for (const [k, v] of where) if (v === inst) where.delete(k);
  });

  function relay(grid: string, to: PeerId, text: string): boolean | Promise<boolean> {
    const m = local.get(grid)?.members.get(to);
    if (m) {
      deliver(m, text);
      return true;
    }
    const key = `${grid} ${to}`;
    const known = where.get(key);
    if (known !== undefined) {
      outbox.queue(known, `r ${key} ${text}`);
      return true;
    }
    return redis.hget(gridKey(grid), to).then((entry) => {
      if (!entry || instOf(entry) === me) return false;
      const inst = instOf(entry);
      if (where.size >= WHERE_MAX) where.clear();
      where.set(key, inst);
      outbox.queue(inst, `r ${key} ${text}`);
      return true;
    });
  }

  /** Refreshes our heartbeat and removes the peers of instances whose heartbeat expired. */
  async function beat(): Promise<void> {
    const was = await hb.set(aliveKey(me), '1', 'PX', ttlMs, 'GET');
    await hb.sadd(instancesKey, me);
    if (was === null && seq > 0) await reannounce();
    for (const other of await hb.smembers(instancesKey)) {
      if (other === me || (await hb.exists(aliveKey(other))) === 1) continue;
      const gone = await cleanupInstance(hb, P, other);
      if (gone.length)
        opts.log?.(`redis bus: instance ${other} is dead, ${gone.length} peers left`);
      for (const [grid, id] of gone) peerLeft(grid, id);
    }
  }

  /** We were declared dead (a stall past the TTL) and our peers removed: announce them again. */
  async function reannounce(): Promise<void> {
    opts.log?.('redis bus: our heartbeat had expired; re-announcing local peers');
    for (const [grid, g] of local) {
      for (const m of g.members.values()) {
        const res = (await redis.eval(
          JOIN_SCRIPT,
          2,
          gridKey(grid),
          peersKey(me),
          m.info.id,
          entryOf(m),
          Number.MAX_SAFE_INTEGER,
          `${grid} ${m.info.id}`,
        )) as [number, string];
        if (!res[1])
          broadcast(grid, m.info.id, JSON.stringify({ type: 'peer-joined', peer: m.info }));
      }
    }
  }

  let beating: Promise<void> = Promise.resolve();
  const tick = () => {
    beating = beating.then(beat).catch((e: Error) => opts.log?.(`redis bus: ${e.message}`));
  };
  await sub.subscribe(instChan(me));
  tick();
  await beating;
  const timer = setInterval(tick, heartbeatMs);
  timer.unref();

  return {
    instanceId: me,
    join,
    relay,
    update(grid, info, sink) {
      const m = local.get(grid)?.members.get(info.id);
      if (!m || m.sink !== sink) return;
      m.info = info;
      broadcast(grid, info.id, JSON.stringify({ type: 'peer-updated', peer: info }));
      redis.eval(UPDATE_SCRIPT, 1, gridKey(grid), info.id, m.tag, entryOf(m)).catch(() => {});
    },
    leave(grid, id, sink) {
      const m = local.get(grid)?.members.get(id);
      if (!m || m.sink !== sink) return;
      removeLocal(grid, id);
      redis
        .eval(LEAVE_SCRIPT, 2, gridKey(grid), peersKey(me), id, m.tag, `${grid} ${id}`)
        .then((n) => {
          if (n === 1 && !closed) peerLeft(grid, id);
        })
        .catch(() => {});
    },
    stats: () => ({ peers: localPeers, grids: local.size }),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await beating;
      // Leave like a dead instance would, but at once: survivors' clients see our peers go.
      hb.disconnect();
      try {
        await redis.del(aliveKey(me));
        for (const [grid, id] of await cleanupInstance(redis, P, me)) {
          const left = JSON.stringify({ type: 'peer-left', id });
          await redis.publish(gridChan(grid), `${me} ${id} ${left}`);
        }
      } catch {
        // Redis gone: the heartbeat TTL cleans up after us.
      }
      local.clear();
      localPeers = 0;
      sub.disconnect();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * PeerPool: WebRTC connections on demand over simple-peer, introduced through
 * a SignalChannel. For each pair the lower id initiates, so simultaneous dials
 * meet in one connection; the higher id asks the lower one to dial.
 */
import type { PeerId, SignalChannel } from '../contracts.ts';
import { PeerGridError, type WireError } from '../errors.ts';
import type { Now, Timers } from '../platform.ts';
import type { IceServer } from '../signaling/messages.ts';
import { createPeerLink, type PeerLink, type PeerLinkOptions } from './link.ts';
import {
  destroyPeer,
  type SimplePeerConstructor,
  type SimplePeerLike,
} from './simple-peer-like.ts';

export interface PeerPoolOptions {
  readonly signal: SignalChannel;
  /** The simple-peer constructor. */
  readonly SimplePeer: SimplePeerConstructor;
  /** A native WebRTC implementation for simple-peer (Node); omit in browsers. */
  readonly wrtc?: unknown;
  readonly iceServers?: readonly IceServer[];
  readonly now: Now;
  readonly timers: Timers;
  /** Open (or opening) connections at once. Default 64. */
  readonly maxOpen?: number;
  /** Connections created over the pool's lifetime (Chromium caps a tab at 500). Default 450. */
  readonly maxCreated?: number;
  /** A connection not open by then is destroyed. Default 15 000 ms. */
  readonly connectTimeoutMs?: number;
  /** Tries per `connect()` when WebRTC setup fails (not on timeout or refusal). Default 3. */
  readonly connectAttempts?: number;
  /** Whether to accept a connection a peer asks for. Default: accept all. */
  readonly accept?: (from: PeerId) => boolean;
  /** Passed to every PeerLink (heartbeat, backpressure, limits). */
  readonly link?: Omit<PeerLinkOptions, 'peer' | 'remoteId' | 'now' | 'timers'>;
}

export interface PeerPoolEvents {
  'link-open': (link: PeerLink) => void;
  'link-closed': (remoteId: PeerId, reason: WireError) => void;
}

export interface PeerPool {
  readonly selfId: PeerId;
  /** The open link to `peerId`, or a new connection. Rejects with a coded PeerGridError. */
  connect(peerId: PeerId): Promise<PeerLink>;
  /** The open link to `peerId`, if any. */
  get(peerId: PeerId): PeerLink | undefined;
  links(): PeerLink[];
  /** Connections created so far (counts toward `maxCreated`). */
  readonly created: number;
  on<E extends keyof PeerPoolEvents>(event: E, handler: PeerPoolEvents[E]): () => void;
  /** Destroys every connection and stops listening to signaling. */
  close(): void;
}

/** Signaling payloads the pool exchanges; `d` is simple-peer's own signal data. */
type Envelope =
  | { readonly pg: 'dial' }
  | { readonly pg: 'sig'; readonly s: string; readonly d: unknown }
  | { readonly pg: 'busy' }
  | { readonly pg: 'fail'; readonly s: string };

interface Entry {
  readonly peer: SimplePeerLike;
  readonly initiator: boolean;
  link?: PeerLink;
  readonly waiters: { resolve(l: PeerLink): void; reject(e: Error): void }[];
  timeout: unknown;
  gotOffer: boolean;
  /** Names one connection attempt (chosen by the initiator) so stale signals of an earlier one are ignored. */
  session: string;
}

export function createPeerPool(opts: PeerPoolOptions): PeerPool {
  const { signal, timers } = opts;
  const selfId = signal.selfId;
  const maxOpen = opts.maxOpen ?? 64;
  const maxCreated = opts.maxCreated ?? 450;
  const connectTimeoutMs = opts.connectTimeoutMs ?? 15_000;
  const connectAttempts = Math.max(1, opts.connectAttempts ?? 3);
  const entries = new Map<PeerId, Entry>();
  const pendingDials = new Map<PeerId, { resolve(l: PeerLink): void; reject(e: Error): void }[]>();
  const openHandlers = new Set<PeerPoolEvents['link-open']>();
  const closedHandlers = new Set<PeerPoolEvents['link-closed']>();
  let created = 0;
  let closed = false;

  const send = (to: PeerId, env: Envelope) => signal.sendSignal(to, env);

  function fail(remoteId: PeerId, entry: Entry | undefined, err: PeerGridError): void {
    if (entry) {
      if (entries.get(remoteId) === entry) entries.delete(remoteId);
      timers.clearTimeout(entry.timeout);
      for (const w of entry.waiters.splice(0)) w.reject(err);
      if (!entry.link) destroyPeer(entry.peer, timers);
    }
    for (const w of pendingDials.get(remoteId) ?? []) w.reject(err);
    pendingDials.delete(remoteId);
  }

  function canCreate(): PeerGridError | null {
    if (closed) return new PeerGridError('pool-closed', 'the peer pool is closed');
    if (entries.size >= maxOpen) {
      return new PeerGridError('too-many-connections', `${maxOpen} connections open (maxOpen)`);
    }
    if (created >= maxCreated) {
      return new PeerGridError(
        'connection-budget-spent',
        `${maxCreated} connections created (maxCreated)`,
      );
    }
    return null;
  }

  function create(remoteId: PeerId, initiator: boolean, session?: string): Entry {
    created++;
    const peer = new opts.SimplePeer({
      initiator,
      trickle: true,
      ...(opts.wrtc ? { wrtc: opts.wrtc } : {}),
      config: { iceServers: opts.iceServers ?? [] },
    });
    const entry: Entry = {
      peer,
      initiator,
      waiters: [],
      timeout: undefined,
      gotOffer: false,
      session: session ?? `${selfId}#${created}`,
    };
    entries.set(remoteId, entry);
    const waiting = pendingDials.get(remoteId);
    if (waiting) entry.waiters.push(...waiting);
    pendingDials.delete(remoteId);
    entry.timeout = timers.setTimeout(
      () =>
        fail(
          remoteId,
          entry,
          new PeerGridError(
            'connect-timeout',
            `no connection to ${remoteId} in ${connectTimeoutMs} ms`,
          ),
        ),
      connectTimeoutMs,
    );
    peer.on('signal', (d) => send(remoteId, { pg: 'sig', s: entry.session, d }));
    peer.on('error', (err) => {
      if (entry.link || entries.get(remoteId) !== entry) return;
      send(remoteId, { pg: 'fail', s: entry.session });
      fail(remoteId, entry, new PeerGridError('connect-failed', err.message));
    });
    peer.on('close', () => {
      if (!entry.link)
        fail(remoteId, entry, new PeerGridError('connect-failed', 'closed before open'));
    });
    peer.on('connect', () => {
      if (entries.get(remoteId) !== entry || closed) return destroyPeer(peer, timers);
      timers.clearTimeout(entry.timeout);
      const link = createPeerLink({ ...opts.link, peer, remoteId, now: opts.now, timers });
      entry.link = link;
      link.onClose((reason) => {
        if (entries.get(remoteId) === entry) entries.delete(remoteId);
        for (const h of [...closedHandlers]) h(remoteId, reason);
      });
      for (const w of entry.waiters.splice(0)) w.resolve(link);
      for (const h of [...openHandlers]) h(link);
    });
    return entry;
  }

  function replace(from: PeerId, entry: Entry): void {
    if (entry.link) entry.link.close({ code: 'replaced', message: 'a new connection replaced it' });
    else fail(from, entry, new PeerGridError('replaced', 'a new connection replaced it'));
  }

  /** True (and tells the peer) when we cannot take a connection from `from`. */
  function refuse(from: PeerId): boolean {
    if (!canCreate() && (opts.accept?.(from) ?? true)) return false;
    send(from, { pg: 'busy' });
    return true;
  }

  function onSignal(from: PeerId, raw: unknown): void {
    if (closed || typeof raw !== 'object' || raw === null) return;
    const env = raw as Record<string, unknown>;
    const existing = entries.get(from);
    if (env.pg === 'busy' || env.pg === 'fail') {
      if (existing?.link || (env.pg === 'fail' && existing?.session !== env.s)) return;
      const err =
        env.pg === 'busy'
          ? new PeerGridError('peer-busy', `${from} refused the connection`)
          : new PeerGridError('connect-failed', `${from} failed to set up the connection`);
      fail(from, existing, err);
      return;
    }
    if (env.pg === 'dial') {
      // Only the lower id dials; ignore a dial we already serve.
      if (selfId >= from || (existing && !existing.link?.closed && existing.initiator)) return;
      if (existing) replace(from, existing);
      if (refuse(from)) return;
      create(from, true);
      return;
    }
    if (env.pg !== 'sig' || typeof env.s !== 'string' || env.s.length > 200) return;
    const d = env.d as { type?: unknown } | null;
    let entry = existing;
    if (typeof d === 'object' && d !== null && d.type === 'offer') {
      if (selfId < from) return; // we would be the initiator: an offer from them is a protocol error
      if (entry && (entry.gotOffer || entry.link || entry.session !== env.s)) {
        replace(from, entry);
        entry = undefined;
      }
      if (!entry) {
        if (refuse(from)) return;
        entry = create(from, false, env.s);
      }
      entry.gotOffer = true;
    }
    if (!entry || entry.session !== env.s) return; // a signal of an earlier attempt
    try {
      entry.peer.signal(d);
    } catch (err) {
      fail(from, entry, new PeerGridError('connect-failed', String(err)));
    }
  }

  const unsubscribe = signal.onSignal(onSignal);

  async function connect(peerId: PeerId): Promise<PeerLink> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await connectOnce(peerId);
      } catch (err) {
        const retry = err instanceof PeerGridError && err.code === 'connect-failed';
        if (!retry || attempt >= connectAttempts || closed) throw err;
      }
    }
  }

  function connectOnce(peerId: PeerId): Promise<PeerLink> {
    if (peerId === selfId)
      return Promise.reject(new PeerGridError('self-connect', 'cannot connect to self'));
    const existing = entries.get(peerId);
    if (existing?.link && !existing.link.closed) return Promise.resolve(existing.link);
    return new Promise<PeerLink>((resolve, reject) => {
      if (existing) return existing.waiters.push({ resolve, reject });
      const refused = canCreate();
      if (refused) return reject(refused);
      if (selfId < peerId) {
        create(peerId, true).waiters.push({ resolve, reject });
        return;
      }
      // The other side initiates: ask it to, and wait for its offer.
      const list = pendingDials.get(peerId) ?? [];
      list.push({ resolve, reject });
      pendingDials.set(peerId, list);
      if (list.length === 1) {
        const handle = timers.setTimeout(() => {
          if (pendingDials.get(peerId) === list)
            fail(
              peerId,
              undefined,
              new PeerGridError(
                'connect-timeout',
                `${peerId} did not dial back in ${connectTimeoutMs} ms`,
              ),
            );
        }, connectTimeoutMs);
        const clear = {
          resolve: () => timers.clearTimeout(handle),
          reject: () => timers.clearTimeout(handle),
        };
        list.push(clear);
        send(peerId, { pg: 'dial' });
      }
    });
  }

  return {
    selfId,
    connect,
    get: (id) => {
      const l = entries.get(id)?.link;
      return l && !l.closed ? l : undefined;
    },
    links: () => [...entries.values()].flatMap((e) => (e.link && !e.link.closed ? [e.link] : [])),
    get created() {
      return created;
    },
    on(event, handler) {
      const set = (event === 'link-open' ? openHandlers : closedHandlers) as Set<typeof handler>;
      set.add(handler);
      return () => set.delete(handler);
    },
    close() {
      if (closed) return;
      closed = true;
      unsubscribe();
      for (const [id, e] of [...entries]) {
        if (e.link) e.link.close({ code: 'pool-closed', message: 'the peer pool is closed' });
        else fail(id, e, new PeerGridError('pool-closed', 'the peer pool is closed'));
      }
      for (const id of [...pendingDials.keys()])
        fail(id, undefined, new PeerGridError('pool-closed', 'the peer pool is closed'));
      entries.clear();
    },
  };
}

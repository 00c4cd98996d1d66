/**
 * PeerPool: WebRTC connections on demand over simple-peer, introduced through
 * a SignalChannel. For each pair the lower id initiates, so simultaneous dials
 * meet in one connection; the higher id asks the lower one to dial.
 *
 * With `auth`, every offer and answer carries a signed proof binding its DTLS
 * fingerprints to the sender's key (link-auth.ts); a description that fails
 * the check, or a channel whose negotiated fingerprint is not the signed one,
 * is refused (counted by code, `link-refused`) before any message reaches a
 * PeerLink. A connection that does not open in time is tried once more
 * relay-only when a TURN server is configured (`relayFallback`).
 */
import type { PeerId, SignalChannel } from '../contracts.ts';
import { PeerGridError, type WireError } from '../errors.ts';
import type { Now, Timers } from '../platform.ts';
import type { IceServer } from '../signaling/messages.ts';
import { createPeerLink, type PeerLink, type PeerLinkOptions } from './link.ts';
import {
  type AuthAttempt,
  type AuthResult,
  createLinkAuthenticator,
  descriptionOf,
  LINK_AUTH_ERROR_CODES,
  type LinkAuth,
  type LinkAuthErrorCode,
} from './link-auth.ts';
import {
  appliedRemoteSdp,
  destroyPeer,
  type IceTransportPolicy,
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
  /**
   * Sign our descriptions and require signed ones (link-auth.ts). Without it
   * the pool neither signs nor checks: a link is then only as honest as the
   * signaling server (tests and the unsigned baseline of bench:links only).
   */
  readonly auth?: LinkAuth;
  /** `relay`: every connection gathers TURN candidates only. Default `all`. */
  readonly iceTransportPolicy?: IceTransportPolicy;
  /**
   * A connection that does not open within `connectTimeoutMs` is tried once
   * more relay-only, when `iceServers` holds a TURN server. Default true.
   */
  readonly relayFallback?: boolean;
}

/** What the pool counted over its lifetime. */
export interface PeerPoolStats {
  /** Descriptions or channels refused by link authentication, by code. */
  readonly refused: Readonly<Partial<Record<LinkAuthErrorCode, number>>>;
  /** Connections retried relay-only after a direct attempt timed out. */
  readonly relayRetries: number;
  /** Links that opened relay-only (a retry, a forced policy or the peer's request). */
  readonly relayedLinks: number;
}

export interface PeerPoolEvents {
  'link-open': (link: PeerLink) => void;
  'link-closed': (remoteId: PeerId, reason: WireError) => void;
  /** A description or channel failed link authentication (`reason.code` is a LinkAuthErrorCode). */
  'link-refused': (remoteId: PeerId, reason: WireError) => void;
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
  /** Refusals and relayed links so far. */
  stats(): PeerPoolStats;
  on<E extends keyof PeerPoolEvents>(event: E, handler: PeerPoolEvents[E]): () => void;
  /** Destroys every connection and stops listening to signaling. */
  close(): void;
}

/**
 * Signaling payloads the pool exchanges; `d` is simple-peer's own signal data,
 * `id` the proof beside an offer or answer, `r: 1` asks for relay-only ICE.
 */
type Envelope =
  | { readonly pg: 'dial'; readonly r?: 1 }
  | {
      readonly pg: 'sig';
      readonly s: string;
      readonly d: unknown;
      readonly id?: unknown;
      readonly r?: 1;
    }
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
  /** Gathers TURN candidates only. */
  readonly relay: boolean;
  /** What the proofs of this attempt bind (with `auth`). */
  readonly attempt: AuthAttempt;
  /** Signals leave in order, each after the proof before it is signed (with `auth`). */
  outbox: Promise<void>;
}

const SETTLED: Promise<void> = Promise.resolve();
/** Signals of one sender waiting behind a proof being checked; more are dropped. */
const MAX_QUEUED_SIGNALS = 256;
const isAuthCode = (code: string): code is LinkAuthErrorCode =>
  (LINK_AUTH_ERROR_CODES as readonly string[]).includes(code);

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
  const refusedHandlers = new Set<PeerPoolEvents['link-refused']>();
  const authn = opts.auth ? createLinkAuthenticator(opts.auth) : undefined;
  const policy = opts.iceTransportPolicy ?? 'all';
  const relayFallback = opts.relayFallback ?? true;
  const refusedCounts: Partial<Record<LinkAuthErrorCode, number>> = {};
  let relayRetries = 0;
  let relayedLinks = 0;
  /** Per sender, the signals waiting behind a proof being checked (with `auth`), and how many. */
  const inbox = new Map<PeerId, { tail: Promise<void>; waiting: number }>();
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

  function create(
    remoteId: PeerId,
    initiator: boolean,
    relayAsked: boolean,
    session?: string,
    attempt?: AuthAttempt,
  ): Entry {
    created++;
    const relay = relayAsked || policy === 'relay';
    const peer = new opts.SimplePeer({
      initiator,
      trickle: true,
      ...(opts.wrtc ? { wrtc: opts.wrtc } : {}),
      config: {
        iceServers: opts.iceServers ?? [],
        ...(relay ? { iceTransportPolicy: 'relay' as const } : {}),
      },
    });
    const name = session ?? `${selfId}#${created}`;
    const entry: Entry = {
      peer,
      initiator,
      waiters: [],
      timeout: undefined,
      gotOffer: false,
      session: name,
      relay,
      attempt: attempt ?? { selfId, remoteId, session: name },
      outbox: SETTLED,
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
    peer.on('signal', (d) => {
      const r = relay ? ({ r: 1 } as const) : {};
      if (!authn) return send(remoteId, { pg: 'sig', s: entry.session, d, ...r });
      const desc = descriptionOf(d);
      entry.outbox = entry.outbox.then(async () => {
        const id = desc ? await authn.sign(entry.attempt, desc) : undefined;
        if (entries.get(remoteId) !== entry || closed) return;
        send(remoteId, { pg: 'sig', s: entry.session, d, ...(id ? { id } : {}), ...r });
      });
      entry.outbox.catch((err: unknown) =>
        fail(
          remoteId,
          entry,
          new PeerGridError('connect-failed', `signing failed: ${String(err)}`),
        ),
      );
    });
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
      // Before any message: the channel must be the one the remote signed for.
      const checked = authn?.checkApplied(entry.attempt, appliedRemoteSdp(peer));
      if (checked && !checked.ok) return refused(remoteId, checked, entry.session);
      timers.clearTimeout(entry.timeout);
      if (relay) relayedLinks++;
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

  /** Counts a failed check, tells the peer and ends the attempt it concerns. */
  function refused(from: PeerId, r: AuthResult & { ok: false }, session: string): void {
    refusedCounts[r.code] = (refusedCounts[r.code] ?? 0) + 1;
    const reason = { code: r.code, message: r.message };
    for (const h of [...refusedHandlers]) h(from, reason);
    send(from, { pg: 'fail', s: session });
    const entry = entries.get(from);
    fail(
      from,
      entry && !entry.link && entry.session === session ? entry : undefined,
      new PeerGridError(r.code, r.message),
    );
  }

  /** With `auth`, an offer or answer is checked before simple-peer sees it; its sender's later signals wait. */
  function onSignalQueued(from: PeerId, raw: unknown): void {
    if (!authn) {
      onSignal(from, raw);
      return;
    }
    const q = inbox.get(from) ?? { tail: SETTLED, waiting: 0 };
    // A flood from one sender (a hostile relay's) waits in a bounded line; the rest is dropped.
    if (q.waiting >= MAX_QUEUED_SIGNALS) return;
    q.waiting++;
    q.tail = q.tail
      .then(() => onSignalChecked(from, raw))
      .catch(() => {})
      .then(() => {
        if (--q.waiting === 0 && inbox.get(from) === q) inbox.delete(from);
      });
    inbox.set(from, q);
  }

  async function onSignalChecked(from: PeerId, raw: unknown): Promise<void> {
    if (closed || typeof raw !== 'object' || raw === null || !authn) return;
    const env = raw as Record<string, unknown>;
    const desc = env.pg === 'sig' ? descriptionOf(env.d) : null;
    if (!desc || typeof env.s !== 'string' || env.s.length > 200) return onSignal(from, raw);
    let attempt: AuthAttempt | undefined;
    if (desc.type === 'offer') {
      if (selfId < from) return; // we would be the initiator
      attempt = { selfId, remoteId: from, session: env.s };
    } else {
      const entry = entries.get(from);
      if (!entry?.initiator || entry.link || entry.session !== env.s) return;
      attempt = entry.attempt;
    }
    const result = await authn.check(attempt, desc, env.id);
    if (closed) return;
    if (!result.ok) return refused(from, result, env.s);
    onSignal(from, raw, attempt);
  }

  /** True (and tells the peer) when we cannot take a connection from `from`. */
  function refuse(from: PeerId): boolean {
    if (!canCreate() && (opts.accept?.(from) ?? true)) return false;
    send(from, { pg: 'busy' });
    return true;
  }

  function onSignal(from: PeerId, raw: unknown, checked?: AuthAttempt): void {
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
      // Only the lower id dials; ignore a dial we already serve, unless it asks for
      // relay-only and we are still trying direct (the asker's direct attempt timed out).
      const serving = existing?.initiator === true && !existing.link?.closed;
      const upgrade = serving && env.r === 1 && !existing.relay && !existing.link;
      if (selfId >= from || (serving && !upgrade)) return;
      if (existing) replace(from, existing);
      if (refuse(from)) return;
      create(from, true, env.r === 1);
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
        entry = create(from, false, env.r === 1, env.s, checked);
      }
      entry.gotOffer = true;
    } else if (
      authn &&
      typeof d === 'object' &&
      d !== null &&
      d.type === 'answer' &&
      entry?.attempt !== checked
    ) {
      return; // an answer for an attempt that has been replaced while it was checked
    }
    if (!entry || entry.session !== env.s) return; // a signal of an earlier attempt
    try {
      entry.peer.signal(d);
    } catch (err) {
      fail(from, entry, new PeerGridError('connect-failed', String(err)));
    }
  }

  const unsubscribe = signal.onSignal(onSignalQueued);

  const hasTurn = () => (opts.iceServers ?? []).some((s) => s.urls.some((u) => /^turns?:/.test(u)));

  async function connect(peerId: PeerId): Promise<PeerLink> {
    let relay = policy === 'relay';
    for (let attempt = 1; ; attempt++) {
      try {
        return await connectOnce(peerId, relay);
      } catch (err) {
        const code = err instanceof PeerGridError ? err.code : '';
        if (code === 'connect-timeout' && !relay && relayFallback && hasTurn() && !closed) {
          relay = true;
          relayRetries++;
          attempt--; // the relay retry is not one of the setup failures' attempts
          continue;
        }
        // A refused proof may be a hostile relay's doing: a fresh attempt may pass another way.
        const retry = code === 'connect-failed' || isAuthCode(code);
        if (!retry || attempt >= connectAttempts || closed) throw err;
      }
    }
  }

  function connectOnce(peerId: PeerId, relay: boolean): Promise<PeerLink> {
    if (peerId === selfId)
      return Promise.reject(new PeerGridError('self-connect', 'cannot connect to self'));
    const existing = entries.get(peerId);
    if (existing?.link && !existing.link.closed) return Promise.resolve(existing.link);
    return new Promise<PeerLink>((resolve, reject) => {
      if (existing) return existing.waiters.push({ resolve, reject });
      const refused = canCreate();
      if (refused) return reject(refused);
      if (selfId < peerId) {
        create(peerId, true, relay).waiters.push({ resolve, reject });
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
        send(peerId, relay ? { pg: 'dial', r: 1 } : { pg: 'dial' });
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
    stats: () => ({ refused: { ...refusedCounts }, relayRetries, relayedLinks }),
    on(event, handler) {
      const set = (
        event === 'link-open'
          ? openHandlers
          : event === 'link-closed'
            ? closedHandlers
            : refusedHandlers
      ) as Set<typeof handler>;
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

/**
 * Signaling client for pages and Node: one implementation over a WebSocket
 * constructor passed in (the page's global `WebSocket`; in Node 20, `ws`).
 * Joins with a key proof, keeps presence, relays signals, reconnects with
 * decorrelated-jitter backoff and re-joins with the same key (same id).
 */
import type { Capabilities, PeerId, SignalChannel } from '../contracts.ts';
import type { WireError } from '../errors.ts';
import { type Identity, signChallenge } from '../identity.ts';
import type { Now, Random, Timers } from '../platform.ts';
import {
  type ClientMessage,
  type IceServer,
  type PeerInfo,
  parseServerMessage,
  type SignalingErrorCode,
} from './messages.ts';

/** Any WebSocket constructor (DOM or `ws`); instances are used through `WebSocketLike`. */
export type WebSocketCtor = new (url: string) => object;

/** The part of a WebSocket the client uses. */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface SignalingClientOptions {
  /** ws:// or wss:// URL of the signaling server. */
  readonly url: string;
  /**
   * Further servers of the same cluster (e.g. signaling instances sharing Redis):
   * each reconnect attempt moves on to the next of `[url, ...fallbackUrls]`. Default none.
   */
  readonly fallbackUrls?: readonly string[];
  readonly grid: string;
  readonly identity: Identity;
  readonly capabilities: Capabilities;
  /** Join token, when the grid requires one. */
  readonly token?: string;
  readonly WebSocket: WebSocketCtor;
  readonly timers: Timers;
  readonly random: Random;
  readonly now: Now;
  /** First reconnect delay and floor of the jitter, ms. Default 500. */
  readonly reconnectBaseMs?: number;
  /** Longest reconnect delay, ms. Default 30 000. */
  readonly reconnectMaxMs?: number;
  /** Idle keepalive period after joining, ms. Default 25 000. */
  readonly pingIntervalMs?: number;
  /** A ping without a pong after this long drops the socket and reconnects, ms. Default 10 000. */
  readonly pongTimeoutMs?: number;
  /**
   * Signals queued while (re)connecting, and signals received while no
   * `signal` handler is subscribed (delivered in order, right after the first
   * subscribes); older ones are dropped past it. Default 256.
   */
  readonly maxQueuedSignals?: number;
}

export interface SignalingEvents {
  ready: { readonly id: PeerId; readonly peers: ReadonlyMap<PeerId, PeerInfo> };
  peers: ReadonlyMap<PeerId, PeerInfo>;
  'peer-joined': PeerInfo;
  'peer-left': PeerId;
  'peer-updated': PeerInfo;
  signal: { readonly from: PeerId; readonly data: unknown };
  error: WireError;
  reconnecting: { readonly attempt: number; readonly delayMs: number };
  closed: { readonly code: string; readonly message: string };
}

export interface SignalingClient extends SignalChannel {
  readonly selfId: PeerId;
  readonly connected: boolean;
  /** ICE servers from the last join (with TURN credentials when the server issues them). */
  readonly iceServers: readonly IceServer[];
  peers(): ReadonlyMap<PeerId, PeerInfo>;
  on<K extends keyof SignalingEvents>(
    event: K,
    handler: (ev: SignalingEvents[K]) => void,
  ): () => void;
  updateCapabilities(capabilities: Capabilities): void;
  close(): void;
}

/** Codes after which retrying cannot help: the client stops and emits `closed`. */
const FATAL: readonly SignalingErrorCode[] = [
  'bad-token',
  'token-expired',
  'bad-signature',
  'bad-grid',
  'replaced',
];

export function createSignalingClient(opts: SignalingClientOptions): SignalingClient {
  const { timers, random, identity, grid } = opts;
  const baseMs = opts.reconnectBaseMs ?? 500;
  const maxMs = opts.reconnectMaxMs ?? 30_000;
  const pingMs = opts.pingIntervalMs ?? 25_000;
  const pongMs = opts.pongTimeoutMs ?? 10_000;
  const maxQueued = opts.maxQueuedSignals ?? 256;
  const urls = [opts.url, ...(opts.fallbackUrls ?? [])];
  let urlIndex = 0;

  let capabilities = opts.capabilities;
  let socket: WebSocketLike | null = null;
  let joined = false;
  let stopped = false;
  let attempt = 0;
  let lastDelay = baseMs;
  let retryTimer: unknown = null;
  let pingTimer: unknown = null;
  let pongTimer: unknown = null;
  let iceServers: readonly IceServer[] = [];
  let peers = new Map<PeerId, PeerInfo>();
  const queue: { to: PeerId; data: unknown }[] = [];
  /** Signals received with no `signal` handler yet (or a flush still pending). */
  const early: SignalingEvents['signal'][] = [];
  const handlers = new Map<keyof SignalingEvents, Set<(ev: never) => void>>();

  function emit<K extends keyof SignalingEvents>(event: K, ev: SignalingEvents[K]): void {
    for (const h of handlers.get(event) ?? []) (h as (e: SignalingEvents[K]) => void)(ev);
  }

  function flushEarly(): void {
    while (early.length > 0 && handlers.get('signal')?.size) emit('signal', early.shift()!);
  }

  function send(msg: ClientMessage): boolean {
    if (!socket) return false;
    try {
      socket.send(JSON.stringify(msg));
      return true;
    } catch {
      return false;
    }
  }

  function clearTimers(): void {
    for (const t of [retryTimer, pingTimer, pongTimer]) if (t !== null) timers.clearTimeout(t);
    retryTimer = pingTimer = pongTimer = null;
  }

  function schedulePing(): void {
    if (pingTimer !== null) timers.clearTimeout(pingTimer);
    pingTimer = timers.setTimeout(() => {
      pingTimer = null;
      if (!send({ type: 'ping' })) return;
      pongTimer = timers.setTimeout(() => drop(), pongMs);
    }, pingMs);
  }

  function connect(): void {
    retryTimer = null;
    const url = urls[urlIndex % urls.length] ?? opts.url;
    let ws: WebSocketLike;
    try {
      ws = new opts.WebSocket(url) as WebSocketLike;
    } catch (err) {
      emit('error', { code: 'internal', message: `cannot open ${url}: ${String(err)}` });
      scheduleReconnect();
      return;
    }
    socket = ws;
    ws.onopen = () => send({ type: 'hello', grid });
    ws.onmessage = (ev) => {
      if (socket !== ws || typeof ev.data !== 'string') return;
      let raw: unknown;
      try {
        raw = JSON.parse(ev.data);
      } catch {
        return;
      }
      const msg = parseServerMessage(raw);
      if (msg) void onMessage(ws, msg);
    };
    ws.onerror = () => {};
    ws.onclose = () => {
      if (socket === ws) drop();
    };
  }

  /** Forgets the current socket and, unless stopped, reconnects later. */
  function drop(): void {
    const ws = socket;
    socket = null;
    joined = false;
    clearTimers();
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      try {
        ws.close();
      } catch {
        // already closed
      }
    }
    if (!stopped) scheduleReconnect();
  }

  function scheduleReconnect(): void {
    attempt += 1;
    urlIndex += 1;
    // Decorrelated jitter (AWS architecture blog): min(cap, uniform(base, prev * 3)).
    lastDelay = Math.min(maxMs, baseMs + random() * (lastDelay * 3 - baseMs));
    const delayMs = Math.round(lastDelay);
    emit('reconnecting', { attempt, delayMs });
    retryTimer = timers.setTimeout(connect, delayMs);
  }

  async function onMessage(ws: WebSocketLike, msg: ReturnType<typeof parseServerMessage> & {}) {
    switch (msg.type) {
      case 'challenge': {
        const signature = await signChallenge(identity, { ...msg, grid });
        if (socket !== ws) return;
        const join: ClientMessage = {
          type: 'join',
          grid,
          publicKey: identity.publicKeyText,
          signature,
          capabilities,
          ...(opts.token === undefined ? {} : { token: opts.token }),
        };
        send(join);
        return;
      }
      case 'joined': {
        if (msg.id !== identity.id) {
          emit('error', { code: 'internal', message: `server assigned ${msg.id}` });
          return;
        }
        joined = true;
        attempt = 0;
        lastDelay = baseMs;
        iceServers = msg.iceServers;
        const next = new Map(msg.peers.map((p) => [p.id, p] as const));
        const prev = peers;
        peers = next;
        // Presence resync: whatever changed while we were away is reported as events.
        for (const id of prev.keys()) if (!next.has(id)) emit('peer-left', id);
        for (const [id, p] of next) {
          const old = prev.get(id);
          if (!old) emit('peer-joined', p);
          else if (JSON.stringify(old) !== JSON.stringify(p)) emit('peer-updated', p);
        }
        emit('peers', peers);
        emit('ready', { id: identity.id, peers });
        for (const q of queue.splice(0)) send({ type: 'signal', to: q.to, data: q.data });
        schedulePing();
        return;
      }
      case 'peer-joined':
      case 'peer-updated': {
        if (msg.peer.id === identity.id) return;
        const known = peers.has(msg.peer.id);
        peers.set(msg.peer.id, msg.peer);
        emit(known ? 'peer-updated' : 'peer-joined', msg.peer);
        return;
      }
      case 'peer-left':
        if (peers.delete(msg.id)) emit('peer-left', msg.id);
        return;
      case 'signal':
        if (early.length > 0 || !handlers.get('signal')?.size) {
          early.push({ from: msg.from, data: msg.data });
          if (early.length > maxQueued) early.shift();
        } else emit('signal', { from: msg.from, data: msg.data });
        return;
      case 'pong':
        if (pongTimer !== null) timers.clearTimeout(pongTimer);
        pongTimer = null;
        schedulePing();
        return;
      case 'error':
        emit('error', { code: msg.code, message: msg.message });
        if (FATAL.includes(msg.code)) {
          stopped = true;
          drop();
          emit('closed', { code: msg.code, message: msg.message });
        }
        return;
    }
  }

  const client: SignalingClient = {
    selfId: identity.id,
    get connected() {
      return joined;
    },
    get iceServers() {
      return iceServers;
    },
    peers: () => peers,
    on(event, handler) {
      let set = handlers.get(event);
      if (!set) {
        set = new Set();
        handlers.set(event, set);
      }
      set.add(handler as (ev: never) => void);
      // Early signals go out after the subscriber's own setup has returned.
      if (event === 'signal' && early.length > 0) void Promise.resolve().then(flushEarly);
      return () => set.delete(handler as (ev: never) => void);
    },
    sendSignal(to, data) {
      if (joined && send({ type: 'signal', to, data })) return;
      queue.push({ to, data });
      if (queue.length > maxQueued) queue.shift();
    },
    onSignal(handler) {
      return client.on('signal', (ev) => handler(ev.from, ev.data));
    },
    updateCapabilities(next) {
      capabilities = next;
      if (joined) send({ type: 'update', capabilities });
    },
    close() {
      if (stopped) return;
      stopped = true;
      drop();
      emit('closed', { code: 'closed', message: 'closed by the client' });
    },
  };
  connect();
  return client;
}

/**
 * PeerLink: typed messages over one connected simple-peer. Frames are chunked
 * to ≤ 16 KiB, sent one after another with backpressure on the channel's
 * `bufferedAmount`, reassembled and parsed on receipt. The one-chunk frames
 * of one burst (everything sent before the next microtask) share data-channel
 * messages of ≤ 16 KiB: each message sent costs the native stack far more
 * than its bytes do. With a peer that speaks protocol 2 (its `hello` says
 * so), small messages sent before `timers.defer` fires (the rest of this
 * task and the I/O already waiting: a burst of assigns, the results a donor's
 * runners returned meanwhile, a job's verdicts) travel as one `batch` frame:
 * one header, one parse, one data-channel message for many tasks. Heartbeats
 * notice a silent peer; malformed input is dropped and penalized, never thrown.
 */
import type { PeerId } from '../contracts.ts';
import { PeerGridError, type WireError } from '../errors.ts';
import type { Now, Timers } from '../platform.ts';
import {
  CHUNK_BYTES,
  CHUNK_DATA_BYTES,
  chunkFrame,
  createReassembler,
  DEFAULT_MAX_FRAME_BYTES,
  iterateFrameChunks,
  type ReassemblyLimits,
  singleChunk,
  splitMessage,
} from './chunking.ts';
import { type FrameParts, joinFrameParts } from './frame-codec.ts';
import {
  decodePeerMessages,
  encodeBatchParts,
  encodePeerMessage,
  encodePeerMessageParts,
} from './message-codec.ts';
import { PEER_MESSAGE_LIMITS, PEER_PROTOCOL, type PeerLoad, type PeerMessage } from './messages.ts';
import { destroyPeer, type SimplePeerLike } from './simple-peer-like.ts';

export interface PeerLinkOptions {
  readonly peer: SimplePeerLike;
  readonly remoteId: PeerId;
  readonly now: Now;
  readonly timers: Timers;
  /** Ping period, ms. Default 1000. */
  readonly heartbeatIntervalMs?: number;
  /** Nothing heard for this long → the link closes with `peer-timeout`. Default 8000 ms (a busy tab can stall its main thread for seconds). */
  readonly deadAfterMs?: number;
  /** Sending pauses while the channel buffers more than this. Default 1 MiB. */
  readonly highWaterBytes?: number;
  /** …and resumes below this (`bufferedamountlow` threshold). Default 256 KiB. */
  readonly lowWaterBytes?: number;
  /** Poll period when the channel has no `bufferedamountlow` event. Default 2 ms. */
  readonly pollMs?: number;
  /** Reassembly limits for what we receive; `maxFrameBytes` also bounds what we send. */
  readonly reassembly?: Partial<ReassemblyLimits>;
  /** Dropped frames/messages tolerated from the peer before disconnecting. Default 16. */
  readonly penaltyThreshold?: number;
  /**
   * The protocol version this end speaks. 1 behaves as peers before `hello`
   * did: it sends no hello and no batch (tests of mixed versions). Default
   * `PEER_PROTOCOL`.
   */
  readonly protocol?: number;
  /**
   * Test only: everything received is handed on this much later, ms, as if
   * the peer were far away (the whole round trip, on one end). Benchmarks of
   * latency hiding use it (`bench:grid -- --rtt-ms`). Default 0.
   */
  readonly testReceiveDelayMs?: number;
}

/** Messages carrying more tensor bytes than this are sent in a frame of their own. */
export const BATCHABLE_TENSOR_BYTES = 4096;
/** A batch is sent once it holds this many tensor bytes, whatever the time. */
export const MAX_BATCH_TENSOR_BYTES = 64 * 1024;

export interface PeerLinkStats {
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly framesSent: number;
  readonly framesReceived: number;
  /** Chunks, frames or messages dropped as malformed or over a limit. */
  readonly penalties: number;
  /** Well-formed messages of a type this version does not know (a newer peer's), ignored. */
  readonly ignored: number;
  /** Messages sent and received (a batch frame holds several), without heartbeats. */
  readonly messagesSent: number;
  readonly messagesReceived: number;
  /** Batch frames sent. */
  readonly batchesSent: number;
}

export interface PeerLink {
  readonly remoteId: PeerId;
  readonly closed: boolean;
  /** Last heartbeat round trip, ms. */
  readonly rttMs: number | undefined;
  /** Load the peer last reported in a heartbeat. */
  readonly remoteLoad: PeerLoad | undefined;
  /** The protocol version the peer said it speaks in its `hello`; 1 until then. */
  readonly remoteProtocol: number;
  /**
   * Queues a message; resolves when its last chunk is handed to the channel
   * (a one-chunk frame: at once, it leaves with its burst). Rejects
   * `link-closed`; a channel that refuses a burst closes the link (`send-failed`).
   */
  send(msg: PeerMessage): Promise<void>;
  /** Hears every parsed message except ping/pong. Returns an unsubscribe function. */
  onMessage(handler: (msg: PeerMessage) => void): () => void;
  /** Hears the close, once, with its reason. */
  onClose(handler: (reason: WireError) => void): () => void;
  /** What our heartbeats report as our load. */
  setLoadSource(source: () => PeerLoad): void;
  stats(): PeerLinkStats;
  /** Closes the link and destroys the peer connection. Idempotent. */
  close(reason?: WireError): void;
}

const SENT: Promise<void> = Promise.resolve();

export function createPeerLink(opts: PeerLinkOptions): PeerLink {
  const { peer, now, timers } = opts;
  const heartbeatMs = opts.heartbeatIntervalMs ?? 1000;
  const deadAfterMs = opts.deadAfterMs ?? 8000;
  const highWater = opts.highWaterBytes ?? 1 << 20;
  const lowWater = opts.lowWaterBytes ?? 256 * 1024;
  const pollMs = opts.pollMs ?? 2;
  const penaltyThreshold = opts.penaltyThreshold ?? 16;
  const reassembler = createReassembler(now, opts.reassembly);
  const maxFrameBytes = opts.reassembly?.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const messageHandlers = new Set<(msg: PeerMessage) => void>();
  const closeHandlers = new Set<(reason: WireError) => void>();
  const s = {
    bytesSent: 0,
    bytesReceived: 0,
    framesSent: 0,
    framesReceived: 0,
    penalties: 0,
    ignored: 0,
    messagesSent: 0,
    messagesReceived: 0,
    batchesSent: 0,
  };
  const protocol = opts.protocol ?? PEER_PROTOCOL;
  let remoteProtocol = 1;
  const defer = timers.defer ?? ((fn: () => void) => void SENT.then(fn));
  /** Small messages waiting for the deferred flush, to leave as one frame. */
  let pending: PeerMessage[] = [];
  let pendingBytes = 0;
  let closed = false;
  let nextMessageId = 1;
  let tail: Promise<void> = SENT;
  /** Frames in `tail` not sent yet: while any are, new frames queue behind them. */
  let queued = 0;
  let lastHeard = now();
  let pingSeq = 0;
  let pingSentAt = new Map<number, number>();
  let rttMs: number | undefined;
  let remoteLoad: PeerLoad | undefined;
  let loadSource: (() => PeerLoad) | undefined;
  let heartbeat: unknown;
  let lowWaiters: (() => void)[] = [];
  /** One-chunk frames waiting for the end of this burst, and their bytes. */
  let burst: Uint8Array[] = [];
  let burstBytes = 0;

  const channel = () => peer._channel ?? undefined;
  const buffered = () => channel()?.bufferedAmount ?? 0;
  const onLow = () => {
    const waiters = lowWaiters;
    lowWaiters = [];
    for (const w of waiters) w();
  };
  const ch = channel();
  // Some implementations (@roamhq/wrtc) have the threshold but never fire the
  // event: the first wait that ends by timer with the buffer drained switches to polling.
  let useLowEvent =
    ch !== undefined &&
    typeof ch.bufferedAmountLowThreshold === 'number' &&
    typeof ch.addEventListener === 'function';
  if (useLowEvent && ch) {
    ch.bufferedAmountLowThreshold = lowWater;
    ch.addEventListener?.('bufferedamountlow', onLow);
  }

  function waitForDrain(): Promise<void> {
    return new Promise((resolve) => {
      const byEvent = useLowEvent;
      const handle = timers.setTimeout(
        () => {
          if (byEvent && buffered() <= lowWater) useLowEvent = false;
          onLow();
        },
        byEvent ? 100 : pollMs,
      );
      lowWaiters.push(() => {
        timers.clearTimeout(handle);
        resolve();
      });
    });
  }

  function rawSend(chunk: Uint8Array): void {
    peer.send(chunk);
    s.bytesSent += chunk.byteLength;
  }

  /** Sends the burst's chunks, packed into as few ≤ CHUNK_BYTES messages as they fit. */
  function flushBurst(): void {
    if (burst.length === 0) return;
    const parts = burst;
    const n = burstBytes;
    burst = [];
    burstBytes = 0;
    if (closed) return;
    let message = parts[0]!;
    if (parts.length > 1) {
      message = new Uint8Array(n);
      let at = 0;
      for (const part of parts) {
        message.set(part, at);
        at += part.byteLength;
      }
    }
    try {
      rawSend(message);
    } catch (err) {
      close({ code: 'send-failed', message: String(err) });
    }
  }

  function addToBurst(chunk: Uint8Array): void {
    if (burstBytes + chunk.byteLength > CHUNK_BYTES) flushBurst();
    if (burst.length === 0) void SENT.then(flushBurst);
    burst.push(chunk);
    burstBytes += chunk.byteLength;
  }

  function takeMessageId(): number {
    const id = nextMessageId;
    nextMessageId = (nextMessageId + 1) >>> 0 || 1;
    return id;
  }

  async function sendFrame(frame: FrameParts): Promise<void> {
    const id = takeMessageId();
    for (const chunk of iterateFrameChunks(frame, id)) {
      while (!closed && buffered() > highWater) await waitForDrain();
      if (closed) throw new PeerGridError('link-closed', `link to ${opts.remoteId} is closed`);
      rawSend(chunk);
    }
    s.framesSent++;
  }

  function send(msg: PeerMessage): Promise<void> {
    if (closed) {
      return Promise.reject(new PeerGridError('link-closed', `link to ${opts.remoteId} is closed`));
    }
    if (protocol >= 2 && remoteProtocol >= 2) {
      const bytes = tensorBytes(msg);
      if (bytes <= BATCHABLE_TENSOR_BYTES) {
        if (pending.push(msg) === 1) defer(flushPending);
        pendingBytes += bytes;
        if (
          pending.length >= PEER_MESSAGE_LIMITS.maxBatch ||
          pendingBytes >= MAX_BATCH_TENSOR_BYTES
        )
          flushPending();
        return SENT;
      }
    }
    flushPending(); // what waits goes first
    s.messagesSent++;
    return sendParts(encodePeerMessageParts(msg), msg.type);
  }

  /** Sends what waits for the deferred flush: one message as it is, several as a batch. */
  function flushPending(): void {
    if (pending.length === 0) return;
    const msgs = pending;
    pending = [];
    pendingBytes = 0;
    if (closed) return;
    s.messagesSent += msgs.length;
    if (msgs.length > 1) s.batchesSent++;
    const frame = msgs.length === 1 ? encodePeerMessageParts(msgs[0]!) : encodeBatchParts(msgs);
    sendParts(frame, msgs.length === 1 ? msgs[0]!.type : 'batch').catch(() => {});
  }

  function sendParts(frame: FrameParts, type: string): Promise<void> {
    if (frame.byteLength > maxFrameBytes) {
      return Promise.reject(
        new PeerGridError(
          'too-large',
          `a ${type} frame of ${frame.byteLength} bytes is over ${maxFrameBytes}`,
        ),
      );
    }
    // Fast path: nothing queued ahead, one chunk, room in the buffer: out with this burst, no promise chain.
    if (queued === 0 && frame.byteLength <= CHUNK_DATA_BYTES && buffered() <= highWater) {
      addToBurst(singleChunk(joinFrameParts(frame), takeMessageId()));
      s.framesSent++;
      return SENT;
    }
    flushBurst(); // what this burst sent so far goes first
    queued++;
    const p = tail.then(() => sendFrame(frame));
    tail = p
      .catch(() => {})
      .then(() => {
        queued--;
      });
    return p;
  }

  function penalize(): void {
    s.penalties++;
    if (s.penalties >= penaltyThreshold) {
      close({ code: 'peer-misbehaving', message: `${s.penalties} malformed messages` });
    }
  }

  function onData(raw: Uint8Array): void {
    if (closed) return;
    lastHeard = now();
    s.bytesReceived += raw.byteLength;
    const chunks = splitMessage(raw);
    if (!chunks) {
      penalize();
      return;
    }
    for (const chunk of chunks) {
      if (closed) return;
      onChunk(chunk);
    }
  }

  function onChunk(chunk: Uint8Array): void {
    const r = reassembler.push(chunk);
    if (r.kind === 'partial') return;
    if (r.kind === 'drop') {
      penalize();
      return;
    }
    const decoded = decodePeerMessages(r.frame);
    if (!decoded) {
      penalize();
      return;
    }
    s.framesReceived++;
    s.ignored += decoded.unknown;
    for (const msg of decoded.messages) {
      if (closed) return;
      onPeerMessage(msg);
    }
  }

  function onPeerMessage(msg: PeerMessage): void {
    if (msg.type === 'hello') {
      remoteProtocol = msg.protocol;
      return;
    }
    if (msg.type === 'ping') {
      const pong: PeerMessage = loadSource
        ? { type: 'pong', seq: msg.seq, load: loadSource() }
        : { type: 'pong', seq: msg.seq };
      if (msg.load) remoteLoad = msg.load;
      sendControl(pong);
      return;
    }
    if (msg.type === 'pong') {
      const sentAt = pingSentAt.get(msg.seq);
      if (sentAt !== undefined) rttMs = now() - sentAt;
      pingSentAt.delete(msg.seq);
      if (msg.load) remoteLoad = msg.load;
      return;
    }
    s.messagesReceived++;
    for (const h of [...messageHandlers]) {
      try {
        h(msg);
      } catch {
        // A handler's bug must not take the link down.
      }
    }
  }

  /** Heartbeats skip the send queue: a one-chunk frame may interleave with a long one. */
  function sendControl(msg: PeerMessage): void {
    const frame = encodePeerMessage(msg);
    if (closed || frame.byteLength > CHUNK_BYTES / 2) return;
    const id = nextMessageId;
    nextMessageId = (nextMessageId + 1) >>> 0 || 1;
    try {
      for (const chunk of chunkFrame(frame, id)) rawSend(chunk);
    } catch (err) {
      close({ code: 'send-failed', message: String(err) });
    }
  }

  function tick(): void {
    heartbeat = undefined;
    if (closed) return;
    if (reassembler.expire() > 0) penalize();
    if (now() - lastHeard > deadAfterMs) {
      close({
        code: 'peer-timeout',
        message: `nothing heard from ${opts.remoteId} for ${deadAfterMs} ms`,
      });
      return;
    }
    pingSeq++;
    if (pingSentAt.size > 64) pingSentAt = new Map();
    pingSentAt.set(pingSeq, now());
    sendControl(
      loadSource
        ? { type: 'ping', seq: pingSeq, load: loadSource() }
        : { type: 'ping', seq: pingSeq },
    );
    if (!closed) heartbeat = timers.setTimeout(tick, heartbeatMs);
  }

  function close(reason: WireError = { code: 'closed', message: 'closed locally' }): void {
    if (closed) return;
    closed = true;
    if (heartbeat !== undefined) timers.clearTimeout(heartbeat);
    ch?.removeEventListener?.('bufferedamountlow', onLow);
    onLow();
    destroyPeer(peer, timers);
    for (const h of [...closeHandlers]) {
      try {
        h(reason);
      } catch {
        // Ignore handler bugs on the way out.
      }
    }
    messageHandlers.clear();
    closeHandlers.clear();
  }

  const delayMs = opts.testReceiveDelayMs ?? 0;
  peer.on(
    'data',
    delayMs > 0 ? (raw) => void timers.setTimeout(() => onData(raw), delayMs) : onData,
  );
  peer.on('close', () =>
    close({ code: 'peer-closed', message: `${opts.remoteId} closed the connection` }),
  );
  peer.on('error', (err) => close({ code: 'peer-error', message: err.message }));
  heartbeat = timers.setTimeout(tick, heartbeatMs);
  // First on the link, so the peer knows what it may send before it sends anything.
  if (protocol >= 2) sendControl({ type: 'hello', protocol });

  return {
    remoteId: opts.remoteId,
    get closed() {
      return closed;
    },
    get rttMs() {
      return rttMs;
    },
    get remoteLoad() {
      return remoteLoad;
    },
    get remoteProtocol() {
      return remoteProtocol;
    },
    send,
    onMessage(h) {
      messageHandlers.add(h);
      return () => messageHandlers.delete(h);
    },
    onClose(h) {
      if (closed) return () => {};
      closeHandlers.add(h);
      return () => closeHandlers.delete(h);
    },
    setLoadSource(source) {
      loadSource = source;
    },
    stats: () => ({ ...s }),
    close,
  };
}

/** Tensor bytes a message carries. */
function tensorBytes(msg: PeerMessage): number {
  let n = 0;
  const map = msg.type === 'assign' ? msg.feeds : msg.type === 'result' ? msg.outputs : undefined;
  if (map) for (const t of Object.values(map)) n += t.data.byteLength;
  else if (msg.type === 'chunk') n = msg.data.byteLength;
  return n;
}

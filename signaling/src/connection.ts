/**
 * One WebSocket connection: handshake, then presence and relay through the
 * bus. Every frame is parsed at the boundary; bad input is answered with
 * `{type:'error', code, message}`, counted, and repeated abuse disconnects.
 * Nothing here throws out of a socket handler.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import {
  CLIENT_MESSAGE_TYPES,
  type ClientMessage,
  type IceServer,
  type PeerInfo,
  parseClientMessage,
  peerIdFromPublicKey,
  SIGNALING_LIMITS,
  type SignalingErrorCode,
  type SubtleLike,
  signalPayloadText,
  verifyChallenge,
} from '@peergrid/shared';
import type { WebSocket } from 'ws';
import type { GridBus, PeerSink } from './bus.ts';
import type { Metrics } from './metrics.ts';
import type { SignalingLimits } from './options.ts';
import { createTokenBucket } from './token-bucket.ts';
import { verifyJoinToken } from './tokens.ts';

export interface ConnectionContext {
  readonly serverId: string;
  readonly bus: GridBus;
  readonly metrics: Metrics;
  readonly limits: SignalingLimits;
  readonly subtle: SubtleLike;
  readonly tokenSecret: string | undefined;
  readonly tokenGrids: ReadonlySet<string> | undefined;
  iceServersFor(peerId: string): IceServer[];
}

/** Close codes used by the server (4000–4999 is the application range). */
export const CLOSE = { policy: 1008, refused: 4003, replaced: 4001, timeout: 4008 } as const;

/**
 * Serves one WebSocket. `tcp` is the socket it writes to (the upgraded
 * request's), corked for one tick at a time so that burst sends leave in one write.
 */
export function handleConnection(
  ws: WebSocket,
  ctx: ConnectionContext,
  tcp?: Pick<Socket, 'cork' | 'uncork'>,
): { alive: boolean } {
  const { limits, metrics, bus } = ctx;
  const state = { alive: true };
  const bucket = createTokenBucket(limits.messagesPerSecond, limits.messageBurst, Date.now());
  const strikes = createTokenBucket(1, limits.maxStrikes, Date.now());
  let limitedNotified = false;
  let grid: string | null = null;
  let nonce: string | null = null;
  let joining = false;
  let self: PeerInfo | null = null;
  let closed = false;

  // Frames sent to this socket within one tick leave in one write: a burst of
  // relayed signals (many frames in one TCP read from the sender) costs one
  // syscall instead of one each.
  let corked = false;
  const uncork = () => {
    corked = false;
    tcp?.uncork();
  };
  const sink: PeerSink = {
    send: (text) => {
      if (ws.readyState !== ws.OPEN) return;
      if (!corked && tcp) {
        corked = true;
        tcp.cork();
        process.nextTick(uncork);
      }
      ws.send(text);
    },
    replaced: () => {
      self = null; // the bus already points at the new socket
      fail('replaced', 'the same key joined on another connection', CLOSE.replaced);
    },
  };

  const joinTimer = setTimeout(() => {
    if (!self) fail('join-timeout', `no join within ${limits.joinTimeoutMs} ms`, CLOSE.timeout);
  }, limits.joinTimeoutMs);

  function error(code: SignalingErrorCode, message: string): void {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'error', code, message }));
  }

  /** Answers, counts, and disconnects once the strike bucket is empty. */
  function reject(code: SignalingErrorCode, message: string, answer = true): void {
    metrics.reject(code);
    if (answer) error(code, message);
    if (!strikes.take(Date.now())) fail(code, 'too many rejected messages', CLOSE.policy);
  }

  function fail(code: SignalingErrorCode, message: string, closeCode: number): void {
    if (closed) return;
    error(code, message);
    closed = true;
    ws.close(closeCode, code);
  }

  ws.on('pong', () => {
    state.alive = true;
  });
  ws.on('error', (err: Error & { code?: string }) => {
    // ws reports protocol violations here and closes the socket itself (1009 for oversized frames).
    metrics.reject(err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'too-large' : 'bad-frame');
  });
  ws.on('close', () => {
    closed = true;
    clearTimeout(joinTimer);
    metrics.connections -= 1;
    if (self && grid) bus.leave(grid, self.id, sink);
    self = null;
  });
  ws.on('message', (data, isBinary) => {
    state.alive = true;
    if (closed) return;
    if (!bucket.take(Date.now())) {
      // One answer per burst of refused messages: a flood must not be echoed back.
      reject('rate-limited', `over ${limits.messagesPerSecond} messages/s`, !limitedNotified);
      limitedNotified = true;
      return;
    }
    limitedNotified = false;
    if (isBinary) return reject('binary-frame', 'binary frames are not accepted');
    let raw: unknown;
    try {
      raw = JSON.parse(data.toString());
    } catch {
      return reject('bad-json', 'not JSON text');
    }
    const type = (raw as { type?: unknown } | null)?.type;
    if (!CLIENT_MESSAGE_TYPES.includes(type as ClientMessage['type'])) {
      return reject('unknown-type', `unknown message type ${JSON.stringify(type)?.slice(0, 40)}`);
    }
    const msg = parseClientMessage(raw);
    if (!msg) {
      // The parser also bounds signal payloads: an oversized one is `too-large`, not malformed.
      const data = type === 'signal' ? (raw as { data?: unknown }).data : undefined;
      const text = signalPayloadText(data, Number.MAX_SAFE_INTEGER);
      if (text !== null && text.length > SIGNALING_LIMITS.signalPayloadMaxChars) {
        return reject('too-large', 'signal payload too large');
      }
      return reject('bad-message', `malformed ${String(type)} message`);
    }
    dispatch(msg, (data as Buffer).length);
  });

  function dispatch(msg: ClientMessage, frameBytes: number) {
    switch (msg.type) {
      case 'hello':
        if (self || joining) return reject('already-joined', 'already joined');
        grid = msg.grid;
        nonce = randomBytes(24).toString('base64url');
        ws.send(JSON.stringify({ type: 'challenge', nonce, serverId: ctx.serverId }));
        return;
      case 'join':
        if (self || joining) return reject('already-joined', 'already joined');
        void join(msg);
        return;
      case 'ping':
        ws.send('{"type":"pong"}');
        return;
      case 'update':
        if (!self || !grid) return reject('not-joined', 'join first');
        self = { ...self, capabilities: msg.capabilities };
        bus.update(grid, self, sink);
        return;
      case 'signal': {
        if (!self || !grid) return reject('not-joined', 'join first');
        // A frame within the bound holds a payload within it: skip measuring.
        if (frameBytes > limits.signalPayloadBytes) {
          if (signalPayloadText(msg.data, limits.signalPayloadBytes) === null) {
            return reject('too-large', 'signal payload too large');
          }
        }
        if (msg.to === self.id) return reject('unknown-peer', 'cannot signal yourself');
        const text = JSON.stringify({ type: 'signal', from: self.id, data: msg.data });
        const r = bus.relay(grid, msg.to, text);
        if (r === true) metrics.relayed += 1;
        else if (r === false) reject('unknown-peer', `no peer ${msg.to} in this grid`);
        else {
          r.then(
            (ok) => (ok ? metrics.relayed++ : reject('unknown-peer', 'no such peer')),
            () => metrics.reject('internal'),
          );
        }
        return;
      }
    }
  }

  async function join(msg: ClientMessage & { type: 'join' }): Promise<void> {
    // The nonce is single-use: taken before any await, so a second join cannot reuse it.
    const challenge = nonce;
    nonce = null;
    if (!challenge || !grid) {
      metrics.reject('no-challenge');
      return fail('no-challenge', 'no pending challenge: send hello first', CLOSE.policy);
    }
    if (msg.grid !== grid) {
      metrics.reject('bad-grid');
      return fail('bad-grid', 'join names another grid than hello', CLOSE.refused);
    }
    joining = true;
    try {
      if (ctx.tokenSecret && (!ctx.tokenGrids || ctx.tokenGrids.has(grid))) {
        const check = verifyJoinToken(ctx.tokenSecret, msg.token, grid);
        if (check !== 'ok') {
          metrics.reject(check);
          return fail(check, 'a valid join token for this grid is required', CLOSE.refused);
        }
      }
      const fields = { serverId: ctx.serverId, grid, nonce: challenge };
      if (!(await verifyChallenge(ctx.subtle, msg.publicKey, msg.signature, fields))) {
        metrics.reject('bad-signature');
        return fail('bad-signature', 'the join signature does not verify', CLOSE.refused);
      }
      if (closed) return;
      const raw = Buffer.from(msg.publicKey, 'base64url');
      const id = await peerIdFromPublicKey(ctx.subtle, raw);
      if (closed) return;
      const info: PeerInfo = { id, publicKey: msg.publicKey, capabilities: msg.capabilities };
      const result = await bus.join(grid, info, sink);
      if (!result.ok) {
        metrics.reject(result.code);
        return fail(result.code, `refused: ${result.code}`, CLOSE.refused);
      }
      if (closed) {
        bus.leave(grid, id, sink);
        return;
      }
      self = info;
      clearTimeout(joinTimer);
      metrics.joins += 1;
      const peers = JSON.stringify(result.peers);
      const ice = JSON.stringify(ctx.iceServersFor(id));
      ws.send(`{"type":"joined","id":"${id}","peers":${peers},"iceServers":${ice}}`);
    } catch (err) {
      metrics.reject('internal');
      fail('internal', String(err), CLOSE.policy);
    } finally {
      joining = false;
    }
  }

  metrics.connections += 1;
  return state;
}

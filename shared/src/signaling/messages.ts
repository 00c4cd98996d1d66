/**
 * The signaling protocol, declared once. JSON text over one WebSocket.
 *
 * Handshake: client `hello {grid}` → server `challenge {nonce, serverId}` →
 * client `join {grid, publicKey, signature, capabilities, token?}` (signature
 * over `challengeBytes`, see identity.ts) → server `joined {id, peers,
 * iceServers}`. Afterwards: `signal` (relay, the server stamps `from`),
 * `update` (capabilities), `ping`/`pong`, and presence events.
 */
import type { Backend, Capabilities, PeerId } from '../contracts.ts';
import type { WireError } from '../errors.ts';
import {
  BASE64URL_PATTERN,
  GRID_NAME_PATTERN,
  SIGNALING_LIMITS as L,
  PEER_ID_PATTERN,
} from './limits.ts';

/** Stable error codes of the signaling protocol. */
export const SIGNALING_ERROR_CODES = [
  'bad-json', // not JSON text
  'binary-frame', // a binary frame where text is expected
  'too-large', // over maxMessageBytes / signal payload bound
  'unknown-type', // a `type` the server does not know
  'bad-message', // missing or wrong fields
  'rate-limited', // over messagesPerSecond
  'not-joined', // a message that needs a joined peer
  'already-joined', // hello/join on a joined connection
  'no-challenge', // join without a pending challenge (or a replayed one)
  'bad-signature', // the signature does not verify
  'bad-grid', // the join names another grid than hello
  'bad-token', // join token missing, malformed, for another grid or forged
  'token-expired',
  'grid-full', // peersPerGrid reached
  'server-full', // gridsPerServer (or connections) reached
  'unknown-peer', // relay target not in this grid
  'join-timeout', // no join within joinTimeoutMs
  'replaced', // the same key joined again on another socket
  'origin-refused',
  'internal',
] as const;
export type SignalingErrorCode = (typeof SIGNALING_ERROR_CODES)[number];

/** A peer of a grid, as presence reports it. */
export interface PeerInfo {
  readonly id: PeerId;
  /** Raw Ed25519 public key, base64url; `id` derives from it. */
  readonly publicKey: string;
  readonly capabilities: Capabilities;
}

/** RTCIceServer, the subset we hand out. */
export interface IceServer {
  readonly urls: readonly string[];
  readonly username?: string;
  readonly credential?: string;
}

export type ClientMessage =
  | { readonly type: 'hello'; readonly grid: string }
  | {
      readonly type: 'join';
      readonly grid: string;
      readonly publicKey: string;
      readonly signature: string;
      readonly capabilities: Capabilities;
      readonly token?: string;
    }
  | { readonly type: 'signal'; readonly to: PeerId; readonly data: unknown }
  | { readonly type: 'update'; readonly capabilities: Capabilities }
  | { readonly type: 'ping' };

export type ServerMessage =
  | { readonly type: 'challenge'; readonly nonce: string; readonly serverId: string }
  | {
      readonly type: 'joined';
      readonly id: PeerId;
      readonly peers: readonly PeerInfo[];
      readonly iceServers: readonly IceServer[];
    }
  | { readonly type: 'peer-joined'; readonly peer: PeerInfo }
  | { readonly type: 'peer-left'; readonly id: PeerId }
  | { readonly type: 'peer-updated'; readonly peer: PeerInfo }
  | { readonly type: 'signal'; readonly from: PeerId; readonly data: unknown }
  | { readonly type: 'pong' }
  | ({ readonly type: 'error'; readonly code: SignalingErrorCode } & WireError);

export const CLIENT_MESSAGE_TYPES = ['hello', 'join', 'signal', 'update', 'ping'] as const;
export const SERVER_MESSAGE_TYPES = [
  'challenge',
  'joined',
  'peer-joined',
  'peer-left',
  'peer-updated',
  'signal',
  'pong',
  'error',
] as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;
const isInt = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const BACKENDS: readonly Backend[] = ['wasm', 'webgpu', 'cpu', 'cuda'];

export const isGridName = (v: unknown): v is string =>
  typeof v === 'string' && GRID_NAME_PATTERN.test(v);
export const isPeerId = (v: unknown): v is PeerId =>
  typeof v === 'string' && PEER_ID_PATTERN.test(v);
const isB64 = (v: unknown, len: number): v is string =>
  typeof v === 'string' && v.length === len && BASE64URL_PATTERN.test(v);

/** Raw Ed25519 public key (32 bytes) as base64url: 43 chars. */
export const isPublicKeyText = (v: unknown): v is string => isB64(v, 43);

export function parseCapabilities(raw: unknown): Capabilities | null {
  if (!isObj(raw)) return null;
  const { runtime, backends, cores, memoryMB, maxConcurrency, speed } = raw;
  if (runtime !== 'browser' && runtime !== 'node') return null;
  if (!Array.isArray(backends) || backends.length > L.backendsMax) return null;
  const bs: Backend[] = [];
  for (const b of backends) {
    if (!BACKENDS.includes(b as Backend)) return null;
    if (!bs.includes(b as Backend)) bs.push(b as Backend);
  }
  if (!isInt(cores, 0, L.coresMax)) return null;
  if (!isInt(memoryMB, 0, L.memoryMBMax)) return null;
  if (!isInt(maxConcurrency, 0, L.maxConcurrencyMax)) return null;
  const caps: Capabilities = { runtime, backends: bs, cores, memoryMB, maxConcurrency };
  if (speed === undefined) return caps;
  // Advertised speeds: tasks/s per backend, one per listed backend at most.
  if (!isObj(speed)) return null;
  const sp: Partial<Record<Backend, number>> = {};
  for (const [b, v] of Object.entries(speed)) {
    if (!bs.includes(b as Backend)) return null;
    if (typeof v !== 'number' || !(v > 0) || v > L.speedMax) return null;
    sp[b as Backend] = v;
  }
  return { ...caps, speed: sp };
}

/**
 * A signal payload (SDP/ICE object or string) as JSON text, or null when it is
 * not JSON-serializable or longer than `maxChars`.
 */
export function signalPayloadText(
  data: unknown,
  maxChars = L.signalPayloadMaxChars,
): string | null {
  if (data === undefined || typeof data === 'function') return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(data);
  } catch {
    return null;
  }
  if (text === undefined || text.length > maxChars) return null;
  return text;
}

/** Parses one client→server message (already JSON-decoded). Unknown fields are dropped. */
export function parseClientMessage(raw: unknown): ClientMessage | null {
  if (!isObj(raw)) return null;
  switch (raw.type) {
    case 'hello':
      return isGridName(raw.grid) ? { type: 'hello', grid: raw.grid } : null;
    case 'join': {
      const capabilities = parseCapabilities(raw.capabilities);
      if (!isGridName(raw.grid) || !isPublicKeyText(raw.publicKey) || !capabilities) return null;
      if (!isB64(raw.signature, 86)) return null; // 64 bytes
      if (raw.token !== undefined && !isStr(raw.token, L.tokenMaxChars)) return null;
      const base = {
        type: 'join',
        grid: raw.grid,
        publicKey: raw.publicKey,
        signature: raw.signature,
        capabilities,
      } as const;
      return raw.token === undefined ? base : { ...base, token: raw.token };
    }
    case 'signal':
      if (!isPeerId(raw.to) || signalPayloadText(raw.data) === null) return null;
      return { type: 'signal', to: raw.to, data: raw.data };
    case 'update': {
      const capabilities = parseCapabilities(raw.capabilities);
      return capabilities ? { type: 'update', capabilities } : null;
    }
    case 'ping':
      return { type: 'ping' };
    default:
      return null;
  }
}

export function parsePeerInfo(raw: unknown): PeerInfo | null {
  if (!isObj(raw) || !isPeerId(raw.id) || !isPublicKeyText(raw.publicKey)) return null;
  const capabilities = parseCapabilities(raw.capabilities);
  return capabilities ? { id: raw.id, publicKey: raw.publicKey, capabilities } : null;
}

export function parseIceServer(raw: unknown): IceServer | null {
  if (!isObj(raw)) return null;
  const urls = typeof raw.urls === 'string' ? [raw.urls] : raw.urls;
  if (!Array.isArray(urls) || urls.length === 0 || urls.length > 8) return null;
  if (!urls.every((u) => isStr(u, 512) && /^(stuns?|turns?):/.test(u))) return null;
  const out: { urls: string[]; username?: string; credential?: string } = { urls: [...urls] };
  if (raw.username !== undefined) {
    if (!isStr(raw.username, 512)) return null;
    out.username = raw.username;
  }
  if (raw.credential !== undefined) {
    if (!isStr(raw.credential, 512)) return null;
    out.credential = raw.credential;
  }
  return out;
}

function parseList<T>(raw: unknown, max: number, item: (v: unknown) => T | null): T[] | null {
  if (!Array.isArray(raw) || raw.length > max) return null;
  const out: T[] = [];
  for (const v of raw) {
    const p = item(v);
    if (p === null) return null;
    out.push(p);
  }
  return out;
}

/** Parses one server→client message (already JSON-decoded). */
export function parseServerMessage(raw: unknown): ServerMessage | null {
  if (!isObj(raw)) return null;
  switch (raw.type) {
    case 'challenge':
      if (!isStr(raw.nonce, 128) || !BASE64URL_PATTERN.test(raw.nonce)) return null;
      if (!isStr(raw.serverId, 128) || !BASE64URL_PATTERN.test(raw.serverId)) return null;
      return { type: 'challenge', nonce: raw.nonce, serverId: raw.serverId };
    case 'joined': {
      const peers = parseList(raw.peers, L.snapshotPeersMax, parsePeerInfo);
      const iceServers = parseList(raw.iceServers, L.iceServersMax, parseIceServer);
      if (!isPeerId(raw.id) || !peers || !iceServers) return null;
      return { type: 'joined', id: raw.id, peers, iceServers };
    }
    case 'peer-joined':
    case 'peer-updated': {
      const peer = parsePeerInfo(raw.peer);
      return peer ? { type: raw.type, peer } : null;
    }
    case 'peer-left':
      return isPeerId(raw.id) ? { type: 'peer-left', id: raw.id } : null;
    case 'signal':
      if (!isPeerId(raw.from) || signalPayloadText(raw.data) === null) return null;
      return { type: 'signal', from: raw.from, data: raw.data };
    case 'pong':
      return { type: 'pong' };
    case 'error':
      if (!SIGNALING_ERROR_CODES.includes(raw.code as SignalingErrorCode)) return null;
      if (!isStr(raw.message, L.errorMessageMaxChars)) return null;
      return { type: 'error', code: raw.code as SignalingErrorCode, message: raw.message };
    default:
      return null;
  }
}

/**
 * Peer messages ⇄ frames. `encodePeerMessage` moves tensors into the frame
 * payload; `parsePeerMessage` validates an untrusted header (plus the frame's
 * tensors) and builds a fresh message, or returns null.
 */
import type { Backend } from '../contracts.ts';
import type { Tensor, TensorMap } from '../tensor.ts';
import type { FeedRef } from './feed-refs.ts';
import { decodeFrame, encodeFrameParts, type FrameParts, joinFrameParts } from './frame-codec.ts';
import {
  PEER_MESSAGE_LIMITS as L,
  PEER_MESSAGE_TYPES,
  type PeerLoad,
  type PeerMessage,
} from './messages.ts';

const BACKENDS: readonly Backend[] = ['wasm', 'webgpu', 'cpu', 'cuda'];
const HASH_RE = /^[0-9a-f]{64}$/;

/** Encodes a message into frame parts (before chunking): tensor bytes are not copied. */
export function encodePeerMessageParts(msg: PeerMessage): FrameParts {
  const tensors: Tensor[] = [];
  return encodeFrameParts(headerOf(msg, tensors), tensors);
}

/**
 * Encodes several messages into one `batch` frame (version 2 peers): one
 * header holding each message's header, one tensor table shared by all.
 */
export function encodeBatchParts(msgs: readonly PeerMessage[]): FrameParts {
  const tensors: Tensor[] = [];
  const messages = msgs.map((m) => headerOf(m, tensors));
  return encodeFrameParts({ type: 'batch', messages }, tensors);
}

/** A message's frame header; its tensors are appended to `tensors` and named by index. */
function headerOf(msg: PeerMessage, tensors: Tensor[]): unknown {
  const refs = (map: TensorMap): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const [name, t] of Object.entries(map)) {
      out[name] = tensors.length;
      tensors.push(t);
    }
    return out;
  };
  // `assign` and `verdict` are built field by field, not spread: an object
  // with extra fields (an engine action, an older caller's task id) must not
  // put them on the wire, where they would tell kinds of lease apart.
  switch (msg.type) {
    case 'assign': {
      const {
        leaseId,
        jobId,
        modelHash,
        modelBytes,
        feeds,
        feedRefs,
        deadlineMs,
        backend,
        outputs,
      } = msg;
      return {
        type: msg.type,
        leaseId,
        jobId,
        modelHash,
        modelBytes,
        feeds: refs(feeds),
        ...(feedRefs ? { feedRefs } : {}),
        deadlineMs,
        ...(backend ? { backend } : {}),
        ...(outputs ? { outputs } : {}),
      };
    }
    case 'verdict': {
      const { leaseId, jobId, verdict, creditMs } = msg;
      return { type: msg.type, leaseId, jobId, verdict, creditMs };
    }
    case 'credit': {
      const { jobId, session, accepted, verifiedMs, rejected } = msg;
      return { type: msg.type, jobId, session, accepted, verifiedMs, rejected };
    }
    case 'result':
      return { ...msg, outputs: refs(msg.outputs) };
    case 'chunk': {
      tensors.push({ dtype: 'uint8', dims: [msg.data.byteLength], data: msg.data });
      return { ...msg, data: tensors.length - 1 };
    }
    default:
      return msg;
  }
}

/** Encodes a message into one frame (before chunking). */
export function encodePeerMessage(msg: PeerMessage): Uint8Array {
  return joinFrameParts(encodePeerMessageParts(msg));
}

/** Decodes and parses one frame; null when malformed (or a batch). */
export function decodePeerMessage(frame: Uint8Array): PeerMessage | null {
  const decoded = decodeFrame(frame);
  return decoded ? parsePeerMessage(decoded.header, decoded.tensors) : null;
}

/** What one frame holds: its messages in order, and how many of a type this version does not know. */
export interface DecodedMessages {
  readonly messages: readonly PeerMessage[];
  readonly unknown: number;
}

/**
 * Decodes a frame of one message or a `batch` of them; null when it is
 * malformed, or when any message of a batch is (a batch is taken whole or
 * not at all). Messages of a type this version does not know are counted
 * in `unknown` and left out, as a single unknown frame is.
 */
export function decodePeerMessages(frame: Uint8Array): DecodedMessages | null {
  const decoded = decodeFrame(frame);
  if (!decoded) return null;
  const h = decoded.header as { type?: unknown; messages?: unknown } | null;
  if (h?.type !== 'batch') {
    const msg = parsePeerMessage(decoded.header, decoded.tensors);
    if (msg) return { messages: [msg], unknown: 0 };
    return isUnknownType(h?.type) ? { messages: [], unknown: 1 } : null;
  }
  const raw = h.messages;
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > L.maxBatch) return null;
  const used = new Set<number>();
  const messages: PeerMessage[] = [];
  let unknown = 0;
  for (const m of raw) {
    const type = (m as { type?: unknown } | null)?.type;
    if (type === 'batch') return null;
    const msg = parsePeerMessage(m, decoded.tensors, used);
    if (msg) messages.push(msg);
    else if (isUnknownType(type)) unknown++;
    else return null;
  }
  // Every tensor of the table belongs to exactly one message.
  if (used.size !== decoded.tensors.length) return null;
  return { messages, unknown };
}

function isUnknownType(type: unknown): boolean {
  return (
    typeof type === 'string' &&
    type.length > 0 &&
    type.length <= L.maxIdLength &&
    !(PEER_MESSAGE_TYPES as readonly string[]).includes(type)
  );
}

/**
 * Validates an untrusted header. Tensor fields are indexes into `tensors`
 * (the frame's tensor table); each index may be used once.
 */
export function parsePeerMessage(
  header: unknown,
  tensors: readonly Tensor[] = [],
  used: Set<number> = new Set(),
): PeerMessage | null {
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return null;
  const h = header as Record<string, unknown>;
  const tensorMap = (raw: unknown): TensorMap | null => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
    const entries = Object.entries(raw);
    if (entries.length > L.maxTensors) return null;
    const out: Record<string, Tensor> = Object.create(null);
    for (const [name, idx] of entries) {
      if (name.length === 0 || name.length > L.maxNameLength) return null;
      const t = typeof idx === 'number' && !used.has(idx) ? tensors[idx] : undefined;
      if (!t) return null;
      used.add(idx as number);
      out[name] = t;
    }
    return { ...out };
  };
  switch (h.type) {
    case 'assign': {
      const feeds = tensorMap(h.feeds);
      const outputs = h.outputs === undefined ? undefined : stringList(h.outputs, L.maxTensors);
      const backend = h.backend === undefined ? undefined : backendOf(h.backend);
      if (!feeds || outputs === null || backend === null) return null;
      // An older peer's `taskId` is ignored: only declared fields are copied.
      if (!id(h.leaseId) || !id(h.jobId) || !hash(h.modelHash)) return null;
      if (!size(h.modelBytes) || !positive(h.deadlineMs)) return null;
      const feedRefs = h.feedRefs === undefined ? undefined : feedRefMap(h.feedRefs, feeds);
      if (feedRefs === null) return null;
      return {
        type: 'assign',
        leaseId: h.leaseId,
        jobId: h.jobId,
        modelHash: h.modelHash,
        modelBytes: h.modelBytes,
        feeds,
        ...(feedRefs ? { feedRefs } : {}),
        deadlineMs: h.deadlineMs,
        ...(backend ? { backend } : {}),
        ...(outputs ? { outputs } : {}),
      };
    }
    case 'ack':
    case 'cancel':
      return id(h.leaseId) ? { type: h.type, leaseId: h.leaseId } : null;
    case 'progress':
      if (!id(h.leaseId)) return null;
      if (h.state !== 'fetching-model' && h.state !== 'queued' && h.state !== 'running')
        return null;
      return { type: 'progress', leaseId: h.leaseId, state: h.state };
    case 'result': {
      const outputs = tensorMap(h.outputs);
      const backend = backendOf(h.backend);
      if (!outputs || !backend || !id(h.leaseId)) return null;
      if (h.digest !== undefined && !hash(h.digest)) return null;
      if (!nonNegative(h.computeMs)) return null;
      return {
        type: 'result',
        leaseId: h.leaseId,
        outputs,
        ...(h.digest !== undefined ? { digest: h.digest } : {}),
        computeMs: h.computeMs,
        backend,
      };
    }
    case 'error': {
      const e = h.error as Record<string, unknown> | null | undefined;
      if (!id(h.leaseId) || typeof e !== 'object' || e === null) return null;
      if (!id(e.code) || typeof e.message !== 'string') return null;
      const message = e.message.slice(0, L.maxErrorMessageLength);
      return { type: 'error', leaseId: h.leaseId, error: { code: e.code, message } };
    }
    case 'verdict': {
      if (!id(h.leaseId) || !id(h.jobId)) return null;
      if (h.verdict !== 'accepted' && h.verdict !== 'rejected') return null;
      if (!nonNegative(h.creditMs) || h.creditMs > L.maxVerdictCreditMs) return null;
      if (h.verdict === 'rejected' && h.creditMs !== 0) return null;
      return {
        type: 'verdict',
        leaseId: h.leaseId,
        jobId: h.jobId,
        verdict: h.verdict,
        creditMs: h.creditMs,
      };
    }
    case 'credit': {
      if (!id(h.jobId) || !id(h.session)) return null;
      const count = (x: unknown): x is number =>
        Number.isSafeInteger(x) && (x as number) >= 0 && (x as number) <= L.maxCreditCount;
      if (!count(h.accepted) || !count(h.rejected)) return null;
      if (!nonNegative(h.verifiedMs) || h.verifiedMs > L.maxCreditTotalMs) return null;
      return {
        type: 'credit',
        jobId: h.jobId,
        session: h.session,
        accepted: h.accepted,
        verifiedMs: h.verifiedMs,
        rejected: h.rejected,
      };
    }
    case 'have': {
      const hashes = stringList(h.hashes, L.maxHaves);
      if (!hashes?.every(hash)) return null;
      return { type: 'have', hashes };
    }
    case 'pieces': {
      if (!hash(h.hash) || !size(h.total) || !Array.isArray(h.pieces)) return null;
      if (h.pieces.length === 0 || h.pieces.length > L.maxPieces) return null;
      const total = h.total;
      if (!h.pieces.every((n) => size(n) && n < total)) return null;
      if (h.coming !== undefined && typeof h.coming !== 'boolean') return null;
      const pieces = h.pieces as number[];
      return { type: 'pieces', hash: h.hash, total, pieces, ...(h.coming ? { coming: true } : {}) };
    }
    case 'want':
      if (!hash(h.hash) || !size(h.offset) || !positive(h.length)) return null;
      if (!Number.isSafeInteger(h.length)) return null;
      return { type: 'want', hash: h.hash, offset: h.offset, length: h.length };
    case 'chunk': {
      const t = typeof h.data === 'number' && !used.has(h.data) ? tensors[h.data] : undefined;
      if (t?.dtype !== 'uint8' || !hash(h.hash) || !size(h.offset) || !size(h.total)) {
        return null;
      }
      used.add(h.data as number);
      if (h.offset + t.data.byteLength > h.total) return null;
      return { type: 'chunk', hash: h.hash, offset: h.offset, total: h.total, data: t.data };
    }
    case 'blob-missing':
      if (!hash(h.hash) || !size(h.offset)) return null;
      return { type: 'blob-missing', hash: h.hash, offset: h.offset };
    case 'hello':
      return Number.isSafeInteger(h.protocol) && (h.protocol as number) >= 1
        ? { type: 'hello', protocol: h.protocol as number }
        : null;
    case 'ping':
    case 'pong': {
      if (!size(h.seq)) return null;
      if (h.load === undefined) return { type: h.type, seq: h.seq };
      const load = loadOf(h.load);
      return load ? { type: h.type, seq: h.seq, load } : null;
    }
    default:
      return null;
  }
}

function id(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0 && x.length <= L.maxIdLength;
}
function hash(x: unknown): x is string {
  return typeof x === 'string' && HASH_RE.test(x);
}
function size(x: unknown): x is number {
  return Number.isSafeInteger(x) && (x as number) >= 0 && (x as number) <= L.maxBlobBytes;
}
function positive(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x) && x > 0;
}
function nonNegative(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0;
}
/** `{name: {hash, bytes}}`, its names apart from the inline feeds', all feeds within the tensor limit. */
function feedRefMap(x: unknown, feeds: TensorMap): Record<string, FeedRef> | null {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return null;
  const entries = Object.entries(x);
  if (entries.length === 0 || entries.length + Object.keys(feeds).length > L.maxTensors)
    return null;
  const out: Record<string, FeedRef> = Object.create(null);
  for (const [name, ref] of entries) {
    if (name.length === 0 || name.length > L.maxNameLength || Object.hasOwn(feeds, name))
      return null;
    if (typeof ref !== 'object' || ref === null) return null;
    const r = ref as Record<string, unknown>;
    if (!hash(r.hash) || !size(r.bytes)) return null;
    out[name] = { hash: r.hash, bytes: r.bytes };
  }
  return { ...out };
}
function backendOf(x: unknown): Backend | null {
  return BACKENDS.find((b) => b === x) ?? null;
}
function stringList(x: unknown, max: number): string[] | null {
  if (!Array.isArray(x) || x.length > max) return null;
  const out: string[] = [];
  for (const s of x) {
    if (typeof s !== 'string' || s.length === 0 || s.length > L.maxNameLength) return null;
    out.push(s);
  }
  return out;
}
function loadOf(x: unknown): PeerLoad | null {
  if (typeof x !== 'object' || x === null) return null;
  const { running, queued, capacity, limit } = x as Record<string, unknown>;
  if (!size(running) || !size(queued) || !size(capacity)) return null;
  if (limit === undefined) return { running, queued, capacity };
  return size(limit) ? { running, queued, capacity, limit } : null;
}

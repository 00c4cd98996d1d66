/**
 * Splits frames into data-channel messages of at most CHUNK_BYTES and puts
 * them back together. Channels are reliable and ordered, so the chunks of one
 * frame arrive in order; frames may interleave by message id.
 *
 * Chunk layout: `u8 0xC1 | u32le messageId | u32le index | u32le count | u32le frameBytes | data`.
 * A chunk's data length follows from its header, so one data-channel message
 * may carry several chunks back to back (`splitMessage`): a sender packs the
 * small frames of one burst into one message.
 */
import type { Now } from '../platform.ts';
import type { FrameParts } from './frame-codec.ts';

/** Largest data-channel message sent: 16 KiB is safe in every browser and libdatachannel. */
export const CHUNK_BYTES = 16 * 1024;
const CHUNK_MAGIC = 0xc1;
export const CHUNK_HEADER_BYTES = 17;
/** Frame bytes carried by each chunk but the last. */
export const CHUNK_DATA_BYTES = CHUNK_BYTES - CHUNK_HEADER_BYTES;

export interface ReassemblyLimits {
  /** Largest frame accepted, bytes. Default 64 MiB (DEFAULT_MAX_FRAME_BYTES). */
  readonly maxFrameBytes: number;
  /** Frames being reassembled at once from one peer. Default 8. */
  readonly maxPartialFrames: number;
  /** A partial frame older than this is dropped by `expire()`. Default 30 000 ms. */
  readonly reassemblyTimeoutMs: number;
}

export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;
export const DEFAULT_REASSEMBLY_LIMITS: ReassemblyLimits = {
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxPartialFrames: 8,
  reassemblyTimeoutMs: 30_000,
};

/** Why a chunk or frame was dropped; each one counts against the sender. */
export type DropReason =
  | 'bad-chunk'
  | 'frame-too-large'
  | 'too-many-partials'
  | 'out-of-order'
  | 'reassembly-timeout'
  | 'bad-frame'
  | 'bad-message';

export type ReassemblyResult =
  | { readonly kind: 'frame'; readonly frame: Uint8Array }
  | { readonly kind: 'partial' }
  | { readonly kind: 'drop'; readonly reason: DropReason };

/** Splits one frame into chunks; `messageId` is any u32 unique among frames in flight. */
export function chunkFrame(frame: Uint8Array, messageId: number): Uint8Array[] {
  return [...iterateChunks(frame, messageId)];
}

/** Like `chunkFrame`, one chunk at a time (a sender under backpressure holds one chunk, not a copy of the frame). */
export function* iterateChunks(frame: Uint8Array, messageId: number): Generator<Uint8Array> {
  const count = Math.max(1, Math.ceil(frame.byteLength / CHUNK_DATA_BYTES));
  for (let i = 0; i < count; i++) yield buildChunk(frame, messageId, i, count);
}

/**
 * Like `iterateChunks` over the frame its parts join into, without joining
 * them: each chunk copies its slice straight from the parts (tensor bytes).
 */
export function* iterateFrameChunks(f: FrameParts, messageId: number): Generator<Uint8Array> {
  const total = f.byteLength;
  const count = Math.max(1, Math.ceil(total / CHUNK_DATA_BYTES));
  let part = 0;
  let off = 0;
  for (let i = 0; i < count; i++) {
    const len = chunkDataBytes(i, count, total);
    const chunk = new Uint8Array(CHUNK_HEADER_BYTES + len);
    writeHeader(chunk, messageId, i, count, total);
    let at = CHUNK_HEADER_BYTES;
    while (at < chunk.byteLength) {
      const p = f.parts[part]!;
      const take = Math.min(chunk.byteLength - at, p.byteLength - off);
      chunk.set(p.subarray(off, off + take), at);
      at += take;
      off += take;
      if (off === p.byteLength) {
        part++;
        off = 0;
      }
    }
    yield chunk;
  }
}

/** The one chunk of a frame of at most CHUNK_DATA_BYTES (as `chunkFrame` would give), without a generator. */
export function singleChunk(frame: Uint8Array, messageId: number): Uint8Array {
  if (frame.byteLength > CHUNK_DATA_BYTES) throw new RangeError('frame needs several chunks');
  return buildChunk(frame, messageId, 0, 1);
}

function buildChunk(frame: Uint8Array, messageId: number, i: number, count: number): Uint8Array {
  const data = frame.subarray(i * CHUNK_DATA_BYTES, (i + 1) * CHUNK_DATA_BYTES);
  const chunk = new Uint8Array(CHUNK_HEADER_BYTES + data.byteLength);
  writeHeader(chunk, messageId, i, count, frame.byteLength);
  chunk.set(data, CHUNK_HEADER_BYTES);
  return chunk;
}

function writeHeader(chunk: Uint8Array, id: number, i: number, count: number, total: number) {
  chunk[0] = CHUNK_MAGIC;
  putU32le(chunk, 1, id >>> 0);
  putU32le(chunk, 5, i);
  putU32le(chunk, 9, count);
  putU32le(chunk, 13, total);
}

/** Data bytes of chunk `index` of `count` in a frame of `total` bytes. */
function chunkDataBytes(index: number, count: number, total: number): number {
  return index === count - 1 ? total - index * CHUNK_DATA_BYTES : CHUNK_DATA_BYTES;
}

/**
 * The chunks one data-channel message carries, as views into it; null when
 * a header is malformed or a chunk runs past the end (the whole message is
 * then dropped and counts against the sender).
 */
export function splitMessage(message: Uint8Array): Uint8Array[] | null {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < message.byteLength) {
    if (message.byteLength - at < CHUNK_HEADER_BYTES || message[at] !== CHUNK_MAGIC) return null;
    const index = getU32le(message, at + 5);
    const count = getU32le(message, at + 9);
    const total = getU32le(message, at + 13);
    if (count !== Math.max(1, Math.ceil(total / CHUNK_DATA_BYTES)) || index >= count) return null;
    const end = at + CHUNK_HEADER_BYTES + chunkDataBytes(index, count, total);
    if (end > message.byteLength) return null;
    out.push(at === 0 && end === message.byteLength ? message : message.subarray(at, end));
    at = end;
  }
  return out.length > 0 ? out : null;
}

/** Writes `v` (a u32) little-endian at `at`: cheaper than a DataView per small chunk. */
function putU32le(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}

/** Reads a little-endian u32 at `at` (the caller checked the length). */
function getU32le(b: Uint8Array, at: number): number {
  return (
    ((b[at] ?? 0) |
      ((b[at + 1] ?? 0) << 8) |
      ((b[at + 2] ?? 0) << 16) |
      ((b[at + 3] ?? 0) << 24)) >>>
    0
  );
}

export interface Reassembler {
  /** Feeds one received data-channel message. */
  push(chunk: Uint8Array): ReassemblyResult;
  /** Drops partial frames older than the timeout; returns how many. Call from a timer. */
  expire(): number;
  /** Partial frames currently held. */
  readonly partials: number;
}

/**
 * Frames up to this size are written into one buffer allocated at their first
 * chunk (one copy). Bigger ones keep copies of their chunks until a quarter
 * of the frame has arrived, then move into one buffer: memory stays within
 * 4× the bytes actually received, never the size a (possibly hostile) first
 * chunk claims. 1 MiB.
 */
export const PREALLOCATE_FRAME_BYTES = 1 << 20;

interface PartialFrame {
  /** The whole frame, filled as chunks arrive (see PREALLOCATE_FRAME_BYTES)… */
  frame: Uint8Array | null;
  /** …or copies of the chunks received so far, joined when the last arrives. */
  readonly parts: Uint8Array[];
  readonly total: number;
  readonly count: number;
  next: number;
  readonly startedAt: number;
}

export function createReassembler(now: Now, limits: Partial<ReassemblyLimits> = {}): Reassembler {
  const lim = { ...DEFAULT_REASSEMBLY_LIMITS, ...limits };
  const partials = new Map<number, PartialFrame>();

  function push(chunk: Uint8Array): ReassemblyResult {
    if (chunk.byteLength < CHUNK_HEADER_BYTES || chunk[0] !== CHUNK_MAGIC) {
      return { kind: 'drop', reason: 'bad-chunk' };
    }
    const id = getU32le(chunk, 1);
    const index = getU32le(chunk, 5);
    const count = getU32le(chunk, 9);
    const total = getU32le(chunk, 13);
    const data = chunk.subarray(CHUNK_HEADER_BYTES);
    if (count !== Math.max(1, Math.ceil(total / CHUNK_DATA_BYTES)) || index >= count) {
      partials.delete(id);
      return { kind: 'drop', reason: 'bad-chunk' };
    }
    const expected = chunkDataBytes(index, count, total);
    if (data.byteLength !== expected) {
      partials.delete(id);
      return { kind: 'drop', reason: 'bad-chunk' };
    }
    if (total > lim.maxFrameBytes) return { kind: 'drop', reason: 'frame-too-large' };
    if (count === 1) {
      if (partials.delete(id)) return { kind: 'drop', reason: 'out-of-order' };
      // A plain copy: `data` may be a Node Buffer, whose slice() does not copy.
      return { kind: 'frame', frame: new Uint8Array(data) };
    }
    let p = partials.get(id);
    if (!p) {
      if (index !== 0) return { kind: 'drop', reason: 'out-of-order' };
      if (partials.size >= lim.maxPartialFrames)
        return { kind: 'drop', reason: 'too-many-partials' };
      const frame = total <= PREALLOCATE_FRAME_BYTES ? new Uint8Array(total) : null;
      p = { frame, parts: [], total, count, next: 0, startedAt: now() };
      partials.set(id, p);
    } else if (index !== p.next || count !== p.count || total !== p.total) {
      partials.delete(id);
      return { kind: 'drop', reason: 'out-of-order' };
    }
    // Copies: `data` may view a buffer the channel reuses.
    if (!p.frame && (index + 1) * CHUNK_DATA_BYTES * 4 >= p.total) {
      const frame = new Uint8Array(p.total);
      for (let k = 0; k < p.parts.length; k++) frame.set(p.parts[k]!, k * CHUNK_DATA_BYTES);
      p.frame = frame;
      p.parts.length = 0;
    }
    if (p.frame) p.frame.set(data, index * CHUNK_DATA_BYTES);
    else p.parts.push(new Uint8Array(data));
    p.next++;
    if (p.next < p.count) return { kind: 'partial' };
    partials.delete(id);
    if (p.frame) return { kind: 'frame', frame: p.frame };
    const frame = new Uint8Array(p.total);
    let at = 0;
    for (const part of p.parts) {
      frame.set(part, at);
      at += part.byteLength;
    }
    return { kind: 'frame', frame };
  }

  function expire(): number {
    const cutoff = now() - lim.reassemblyTimeoutMs;
    let dropped = 0;
    for (const [id, p] of partials) {
      if (p.startedAt <= cutoff) {
        partials.delete(id);
        dropped++;
      }
    }
    return dropped;
  }

  return {
    push,
    expire,
    get partials() {
      return partials.size;
    },
  };
}

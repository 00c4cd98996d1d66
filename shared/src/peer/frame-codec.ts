/**
 * A frame is one peer message on the wire: a small msgpack header followed by
 * the raw bytes of the tensors it carries. Tensor bytes are never msgpack-
 * encoded; the header holds a table of `[dtype, dims, byteOffset, byteLength]`
 * into the payload that follows it.
 *
 * Layout: `u8 version | u32le headerBytes | msgpack {m: header, t: table} | payload`.
 */
import { Packr } from 'msgpackr';
import { byteLength, isDType, type Tensor } from '../tensor.ts';

export const FRAME_VERSION = 1;
const PREFIX_BYTES = 5;

/** Largest msgpack header accepted (default 1 MiB): headers are small, tensors go in the payload. */
export const MAX_HEADER_BYTES = 1 << 20;
/** Most tensors one frame may carry (default 1024). */
export const MAX_FRAME_TENSORS = 1024;
/** Most dimensions a tensor may have (default 16). */
export const MAX_TENSOR_RANK = 16;

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

export interface DecodedFrame {
  /** The message header, untrusted: hand it to `parsePeerMessage`. */
  readonly header: unknown;
  /** Tensors in table order; each owns a copy of its bytes. */
  readonly tensors: readonly Tensor[];
}

/**
 * A frame as its parts, not yet joined: the prefix and msgpack header, then
 * each tensor's bytes (views, not copies). Chunking reads across them, so a
 * big tensor is never copied into a whole frame first.
 */
export interface FrameParts {
  readonly parts: readonly Uint8Array[];
  /** Sum of the parts' lengths: the frame's size. */
  readonly byteLength: number;
}

/** Encodes a header (plain data, no tensors) and tensors into frame parts. */
export function encodeFrameParts(header: unknown, tensors: readonly Tensor[] = []): FrameParts {
  const table: [string, readonly number[], number, number][] = new Array(tensors.length);
  let offset = 0;
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i]!;
    table[i] = [t.dtype, t.dims, offset, t.data.byteLength];
    offset += t.data.byteLength;
  }
  // Packr reuses its buffer: copy before the next pack() call.
  const head = packr.pack({ m: header, t: table });
  const n = head.byteLength;
  const first = new Uint8Array(PREFIX_BYTES + n);
  first[0] = FRAME_VERSION;
  first[1] = n & 0xff;
  first[2] = (n >>> 8) & 0xff;
  first[3] = (n >>> 16) & 0xff;
  first[4] = n >>> 24;
  first.set(head, PREFIX_BYTES);
  const parts: Uint8Array[] = [first];
  for (const t of tensors) if (t.data.byteLength > 0) parts.push(t.data);
  return { parts, byteLength: first.byteLength + offset };
}

/** Joins frame parts into one frame. */
export function joinFrameParts(f: FrameParts): Uint8Array {
  if (f.parts.length === 1) return f.parts[0]!;
  const out = new Uint8Array(f.byteLength);
  let at = 0;
  for (const p of f.parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Encodes a header (plain data, no tensors) and tensors into one frame. */
export function encodeFrame(header: unknown, tensors: readonly Tensor[] = []): Uint8Array {
  return joinFrameParts(encodeFrameParts(header, tensors));
}

/**
 * Decodes a frame; null when it is malformed in any way (bad version, header
 * length, msgpack, tensor table, byte ranges outside the payload or not
 * matching dtype × dims). Never throws.
 */
export function decodeFrame(frame: Uint8Array): DecodedFrame | null {
  if (frame.byteLength < PREFIX_BYTES || frame[0] !== FRAME_VERSION) return null;
  const headBytes = (frame[1]! | (frame[2]! << 8) | (frame[3]! << 16) | (frame[4]! << 24)) >>> 0;
  if (headBytes > MAX_HEADER_BYTES || PREFIX_BYTES + headBytes > frame.byteLength) return null;
  let decoded: unknown;
  try {
    decoded = packr.unpack(frame.subarray(PREFIX_BYTES, PREFIX_BYTES + headBytes));
  } catch {
    return null;
  }
  if (typeof decoded !== 'object' || decoded === null) return null;
  const { m, t } = decoded as { m?: unknown; t?: unknown };
  if (!Array.isArray(t) || t.length > MAX_FRAME_TENSORS) return null;
  const payload = frame.subarray(PREFIX_BYTES + headBytes);
  const tensors: Tensor[] = [];
  for (const entry of t) {
    const tensor = parseTableEntry(entry, payload);
    if (!tensor) return null;
    tensors.push(tensor);
  }
  return { header: m, tensors };
}

function parseTableEntry(entry: unknown, payload: Uint8Array): Tensor | null {
  if (!Array.isArray(entry) || entry.length !== 4) return null;
  const [dtype, dims, off, len] = entry as unknown[];
  if (!isDType(dtype) || !Array.isArray(dims) || dims.length > MAX_TENSOR_RANK) return null;
  const cleanDims: number[] = [];
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || (d as number) < 0) return null;
    cleanDims.push(d as number);
  }
  if (!Number.isSafeInteger(off) || !Number.isSafeInteger(len)) return null;
  const o = off as number;
  const n = len as number;
  if (o < 0 || n < 0 || o + n > payload.byteLength) return null;
  if (byteLength(dtype, cleanDims) !== n) return null;
  // A plain copy (never a Buffer view), so the tensor owns exactly its bytes (see tensor.ts).
  return { dtype, dims: cleanDims, data: new Uint8Array(payload.subarray(o, o + n)) };
}

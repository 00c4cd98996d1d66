/**
 * NumPy .npy (format 1.0–3.0) read/write for the dtypes PeerGrid moves.
 * Written here because the npm npy packages read only, or only some dtypes.
 * Little-endian, C order; Fortran-order or big-endian files are refused.
 */
import { byteLength, type DType, type Tensor } from '@peergrid/shared';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR: Readonly<Record<DType, string>> = {
  float32: '<f4',
  float64: '<f8',
  int32: '<i4',
  int64: '<i8',
  uint8: '|u1',
  int8: '|i1',
  bool: '|b1',
};
const BY_DESCR = new Map<string, DType>(
  Object.entries(DESCR).flatMap(([dtype, d]) => [
    [d, dtype as DType],
    [d.replace(/^[<|]/, '='), dtype as DType],
  ]),
);
BY_DESCR.set('<u1', 'uint8').set('<i1', 'int8').set('<b1', 'bool');

/** Parses .npy bytes; null when the file is not a C-order little-endian array of a known dtype. */
export function parseNpy(bytes: Uint8Array): Tensor | null {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) return null;
  const major = bytes[6] ?? 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > bytes.length) return null;
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(start, start + headerLen),
  );
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  const dtype = descr ? BY_DESCR.get(descr) : undefined;
  if (!dtype || fortran !== 'False' || shape === undefined) return null;
  const dims = shape
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) return null;
  const dataStart = start + headerLen;
  const len = byteLength(dtype, dims);
  if (bytes.length - dataStart < len) return null;
  return { dtype, dims, data: bytes.slice(dataStart, dataStart + len) };
}

/** Encodes a tensor as .npy (format 1.0, header padded to 64 bytes). */
export function encodeNpy(t: Tensor): Uint8Array {
  const shape = t.dims.length === 1 ? `(${t.dims[0]},)` : `(${t.dims.join(', ')})`;
  let header = `{'descr': '${DESCR[t.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += `${' '.repeat((64 - (total % 64)) % 64)}\n`;
  const out = new Uint8Array(10 + header.length + t.data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(t.data, 10 + header.length);
  return out;
}

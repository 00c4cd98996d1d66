/**
 * NumPy .npy (format 1.0–3.0) read/write for the dtypes PeerGrid moves, shared
 * by the Node worker and the browser client. Written here because the npm npy
 * packages read only, or only some dtypes. Little-endian, C order;
 * Fortran-order or big-endian files are refused. Pure: bytes in, bytes out.
 */
import { byteLength, type DType, type Tensor } from '../tensor.ts';

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

/** Outcome of {@link decodeNpy}: the tensor, or in words why the file cannot be used. */
export type NpyResult = { ok: true; tensor: Tensor } | { ok: false; error: string };

/**
 * Decodes .npy bytes into a tensor, or says why it cannot. Like `numpy.load`,
 * bytes after the array's data are ignored. The header is read as latin-1:
 * only its ASCII keys matter (a v3 UTF-8 header decodes the same for them).
 */
export function decodeNpy(bytes: Uint8Array): NpyResult {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    return { ok: false, error: 'not a .npy file (bad magic)' };
  }
  const major = bytes[6] ?? 0;
  if (major < 1 || major > 3) return { ok: false, error: `unsupported .npy version ${major}` };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  if (headerStart + headerLen > bytes.length) return { ok: false, error: 'truncated .npy header' };
  const header = latin1(bytes.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shape === undefined) {
    return { ok: false, error: 'malformed .npy header' };
  }
  const dtype = BY_DESCR.get(descr);
  if (!dtype) return { ok: false, error: `unsupported .npy dtype ${descr}` };
  if (fortran === 'True') {
    return { ok: false, error: 'Fortran-order .npy arrays are not supported' };
  }
  const dims = shape
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) {
    return { ok: false, error: 'malformed .npy shape' };
  }
  const start = headerStart + headerLen;
  const need = byteLength(dtype, dims);
  if (bytes.length - start < need) {
    return { ok: false, error: `.npy data is ${bytes.length - start} bytes, shape needs ${need}` };
  }
  return { ok: true, tensor: { dtype, dims, data: bytes.slice(start, start + need) } };
}

/** Parses .npy bytes; null when the file is not a C-order little-endian array of a known dtype. */
export function parseNpy(bytes: Uint8Array): Tensor | null {
  const r = decodeNpy(bytes);
  return r.ok ? r.tensor : null;
}

/** Encodes a tensor as .npy (format 1.0, header padded so the data starts on a 64-byte boundary). */
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
  // The header is ASCII, so one byte per UTF-16 code unit.
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(t.data, 10 + header.length);
  return out;
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

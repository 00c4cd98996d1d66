import type { DType, Tensor } from '@peergrid/shared';
import { byteLength } from '@peergrid/shared';

/** NumPy `.npy` files (format versions 1–3), little-endian C order only. */

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR_TO_DTYPE: Readonly<Record<string, DType>> = {
  '<f4': 'float32',
  '<f8': 'float64',
  '<i4': 'int32',
  '<i8': 'int64',
  '|u1': 'uint8',
  '<u1': 'uint8',
  '|i1': 'int8',
  '<i1': 'int8',
  '|b1': 'bool',
};
const DTYPE_TO_DESCR: Readonly<Record<DType, string>> = {
  float32: '<f4',
  float64: '<f8',
  int32: '<i4',
  int64: '<i8',
  uint8: '|u1',
  int8: '|i1',
  bool: '|b1',
};

export type NpyResult = { ok: true; tensor: Tensor } | { ok: false; error: string };

/** Parses a .npy file into a tensor, or says in words why it cannot. */
export function parseNpy(bytes: Uint8Array): NpyResult {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    return { ok: false, error: 'not a .npy file (bad magic)' };
  }
  const major = bytes[6] ?? 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  if (major < 1 || major > 3) return { ok: false, error: `unsupported .npy version ${major}` };
  if (headerStart + headerLen > bytes.length) return { ok: false, error: 'truncated .npy header' };
  const header = new TextDecoder('latin1').decode(
    bytes.subarray(headerStart, headerStart + headerLen),
  );
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shape === undefined) {
    return { ok: false, error: 'malformed .npy header' };
  }
  const dtype = DESCR_TO_DTYPE[descr];
  if (!dtype) return { ok: false, error: `unsupported .npy dtype ${descr}` };
  if (fortran === 'True')
    return { ok: false, error: 'Fortran-order .npy arrays are not supported' };
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
  if (bytes.length - start !== need) {
    return { ok: false, error: `.npy data is ${bytes.length - start} bytes, shape needs ${need}` };
  }
  return { ok: true, tensor: { dtype, dims, data: bytes.slice(start) } };
}

/** Encodes a tensor as a version 1.0 .npy file (header padded to 64 bytes). */
export function encodeNpy(t: Tensor): Uint8Array {
  const shape = t.dims.length === 1 ? `(${t.dims[0]},)` : `(${t.dims.join(', ')})`;
  let header = `{'descr': '${DTYPE_TO_DESCR[t.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64);
  header += '\n';
  const out = new Uint8Array(10 + header.length + t.data.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(t.data, 10 + header.length);
  return out;
}

/**
 * NumPy .npz archives (`np.savez`, `np.savez_compressed`): a zip of one .npy
 * per array, named `KEY.npy`. The zip is fflate's; each entry is read with
 * the .npy codec beside this file. Pure: bytes in, bytes out.
 */
import { unzipSync, zipSync } from 'fflate';
import type { Tensor, TensorMap } from '../tensor.ts';
import { decodeNpy, encodeNpy } from './npy.ts';

/** Bounds of {@link decodeNpz}. */
export interface NpzLimits {
  /** Most bytes the archive's entries may inflate to, in all. Default 1 GiB. */
  readonly maxBytes: number;
}

export const DEFAULT_NPZ_LIMITS: NpzLimits = { maxBytes: 1024 * 1024 * 1024 };

/** Outcome of {@link decodeNpz}: the arrays by key, or in words why the archive cannot be used. */
export type NpzResult =
  | { readonly ok: true; readonly tensors: Record<string, Tensor> }
  | { readonly ok: false; readonly error: string };

const ZIP_MAGIC = [0x50, 0x4b]; // PK

/** True when the bytes start like a zip archive (what an .npz is). */
export function isZip(bytes: Uint8Array): boolean {
  return ZIP_MAGIC.every((b, i) => bytes[i] === b);
}

/** Decodes an .npz archive; every entry must be a .npy this codec reads. */
export function decodeNpz(bytes: Uint8Array, limits: Partial<NpzLimits> = {}): NpzResult {
  const { maxBytes } = { ...DEFAULT_NPZ_LIMITS, ...limits };
  if (!isZip(bytes)) return { ok: false, error: 'not an .npz file (not a zip archive)' };
  const others: string[] = [];
  let total = 0;
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, {
      filter: (f) => {
        if (f.name.endsWith('/')) return false;
        if (!f.name.endsWith('.npy')) {
          others.push(f.name);
          return false;
        }
        total += f.originalSize;
        return total <= maxBytes;
      },
    });
  } catch (e) {
    return { ok: false, error: `not a readable .npz archive: ${(e as Error).message}` };
  }
  if (total > maxBytes) {
    return { ok: false, error: `.npz arrays exceed ${maxBytes} bytes when inflated` };
  }
  if (others.length > 0) {
    return { ok: false, error: `.npz entries must be .npy arrays, got ${others.join(', ')}` };
  }
  const tensors: Record<string, Tensor> = {};
  const errors: string[] = [];
  for (const [file, data] of Object.entries(entries)) {
    const r = decodeNpy(data);
    if (r.ok) tensors[file.slice(0, -'.npy'.length)] = r.tensor;
    else errors.push(`${file}: ${r.error}`);
  }
  if (errors.length > 0) return { ok: false, error: errors.join('; ') };
  if (Object.keys(tensors).length === 0)
    return { ok: false, error: '.npz archive holds no arrays' };
  return { ok: true, tensors };
}

/** Options of {@link encodeNpz}. */
export interface NpzEncodeOptions {
  /** Deflate the entries, as `np.savez_compressed` does. Default false (stored, as `np.savez`). */
  readonly compress?: boolean;
}

/** Encodes named tensors as an .npz archive `np.load` reads. */
export function encodeNpz(tensors: TensorMap, options: NpzEncodeOptions = {}): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  for (const [name, t] of Object.entries(tensors)) files[`${name}.npy`] = encodeNpy(t);
  // A fixed entry time (local, as zip keeps it) so the same tensors give the same bytes.
  return zipSync(files, { level: options.compress ? 6 : 0, mtime: new Date(1980, 0, 1, 12) });
}

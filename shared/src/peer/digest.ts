/**
 * The digest a donor reports with its outputs: SHA-256 over a canonical
 * encoding (names sorted; per tensor its name, dtype, dims and bytes), so equal
 * outputs give equal digests whatever the map's key order.
 */
import type { Sha256Hex } from '../platform.ts';
import type { TensorMap } from '../tensor.ts';
import { encodeFrame } from './frame-codec.ts';

export function digestTensorMap(outputs: TensorMap, sha256: Sha256Hex): Promise<string> {
  const names = Object.keys(outputs).sort();
  const tensors = names.map((n) => outputs[n]!);
  return sha256(encodeFrame({ digest: 1, names }, tensors));
}

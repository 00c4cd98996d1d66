/**
 * Loads one tensor from a file by extension: `.npy` (NumPy) or `.json` (see
 * json-tensor.ts). Image folders go through `loadImageFolder` instead.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Tensor } from '@peergrid/shared';
import { parseJsonTensor } from './json-tensor.ts';
import { parseNpy } from './npy.ts';

export const TENSOR_FILE_EXTENSIONS: readonly string[] = ['.npy', '.json'];

/** Reads a .npy or .json tensor file; throws an Error naming the file when it cannot. */
export async function loadTensorFile(path: string): Promise<Tensor> {
  const ext = extname(path).toLowerCase();
  const bytes = await readFile(path);
  let tensor: Tensor | null = null;
  if (ext === '.npy') tensor = parseNpy(new Uint8Array(bytes));
  else if (ext === '.json') {
    try {
      tensor = parseJsonTensor(JSON.parse(bytes.toString('utf8')));
    } catch {
      tensor = null;
    }
  } else
    throw new Error(
      `${path}: unsupported tensor file (use ${TENSOR_FILE_EXTENSIONS.join(' or ')})`,
    );
  if (!tensor) throw new Error(`${path}: not a valid ${ext.slice(1)} tensor`);
  return tensor;
}

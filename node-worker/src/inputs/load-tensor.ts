/**
 * Loads input files by extension: `.npy` (one tensor), `.json` (one tensor
 * or an object of them keyed by input name, see shared's tensor-json.ts) and
 * `.npz` (numpy's archive, one array per input name). Image folders go
 * through `loadImageFolder` instead.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { decodeNpy, decodeNpz, parseJsonTensors, type Tensor } from '@peergrid/shared';

/** Files that hold one tensor. */
export const TENSOR_FILE_EXTENSIONS: readonly string[] = ['.npy', '.json'];
/** Files that hold one task's inputs: one tensor, or several by name. */
export const INPUT_FILE_EXTENSIONS: readonly string[] = ['.npy', '.json', '.npz'];

/** What an input file holds: tensors by input name, or one tensor the caller names. */
export type InputFile =
  | { readonly kind: 'named'; readonly tensors: Readonly<Record<string, Tensor>> }
  | { readonly kind: 'tensor'; readonly tensor: Tensor };

/** Reads a .npy, .json or .npz input file; throws an Error naming the file and the reason when it cannot. */
export async function loadInputFile(path: string): Promise<InputFile> {
  const ext = extname(path).toLowerCase();
  if (!INPUT_FILE_EXTENSIONS.includes(ext)) {
    throw new Error(`${path}: unsupported input file (use ${INPUT_FILE_EXTENSIONS.join(', ')})`);
  }
  const bytes = new Uint8Array(await readFile(path));
  if (ext === '.npy') {
    const r = decodeNpy(bytes);
    if (!r.ok) throw new Error(`${path}: ${r.error}`);
    return { kind: 'tensor', tensor: r.tensor };
  }
  if (ext === '.npz') {
    const r = decodeNpz(bytes);
    if (!r.ok) throw new Error(`${path}: ${r.error}`);
    return { kind: 'named', tensors: r.tensors };
  }
  const r = parseJsonTensors(new TextDecoder().decode(bytes), '');
  if (!r.ok) throw new Error(`${path}: ${r.error}`);
  if (r.named) return { kind: 'named', tensors: r.tensors };
  return { kind: 'tensor', tensor: r.tensors[''] as Tensor };
}

/** Reads a .npy or .json file holding one tensor; throws an Error naming the file when it cannot. */
export async function loadTensorFile(path: string): Promise<Tensor> {
  const ext = extname(path).toLowerCase();
  if (!TENSOR_FILE_EXTENSIONS.includes(ext)) {
    throw new Error(
      `${path}: unsupported tensor file (use ${TENSOR_FILE_EXTENSIONS.join(' or ')})`,
    );
  }
  const file = await loadInputFile(path);
  if (file.kind === 'tensor') return file.tensor;
  throw new Error(
    `${path}: holds tensors by name (${Object.keys(file.tensors).join(', ')}), not one tensor`,
  );
}

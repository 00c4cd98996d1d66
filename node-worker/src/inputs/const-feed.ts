/**
 * Constant feeds, the same for every task of a job: `--const NAME=VALUE:DTYPE`
 * (a number or a JSON array; DTYPE may be left out when the model declares
 * the input's type) or `--const NAME=@FILE` (a .npy or .json tensor).
 */
import {
  type DeclaredInput,
  DTYPES,
  type DType,
  isDType,
  parseJsonTensor,
  type Tensor,
} from '@peergrid/shared';
import { loadTensorFile } from './load-tensor.ts';

/** A `--const` flag, parsed. */
export type ConstFlag =
  | {
      readonly name: string;
      /** A number or a (nested) array of numbers. */
      readonly value: number | readonly unknown[];
      readonly dtype?: DType;
    }
  | { readonly name: string; readonly file: string };

/** Parses `NAME=VALUE[:DTYPE]` or `NAME=@FILE`; a string says what is wrong. */
export function parseConstFlag(raw: string): ConstFlag | string {
  const eq = raw.indexOf('=');
  const name = eq > 0 ? raw.slice(0, eq) : '';
  const rest = eq > 0 ? raw.slice(eq + 1) : '';
  if (!name || !rest) return `--const must be NAME=VALUE:DTYPE or NAME=@FILE, got '${raw}'`;
  if (rest.startsWith('@')) {
    const file = rest.slice(1);
    return file ? { name, file } : `--const ${name}: give a file after @`;
  }
  const colon = rest.lastIndexOf(':');
  const text = colon >= 0 ? rest.slice(0, colon) : rest;
  const dtypeText = colon >= 0 ? rest.slice(colon + 1) : undefined;
  if (dtypeText !== undefined && !isDType(dtypeText)) {
    return `--const ${name}: unknown dtype '${dtypeText}' (one of ${DTYPES.join(', ')})`;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (typeof value !== 'number' && !Array.isArray(value)) {
    return `--const ${name}: the value must be a number or a JSON array like [1,2,3], got '${text}'`;
  }
  return { name, value, ...(dtypeText !== undefined ? { dtype: dtypeText as DType } : {}) };
}

/**
 * The flag's tensor. A value without a dtype takes the one the model
 * declares for that input; throws an Error for the user when it cannot.
 */
export async function loadConstFeed(flag: ConstFlag, declared?: DeclaredInput): Promise<Tensor> {
  if ('file' in flag) return loadTensorFile(flag.file);
  const dtype = flag.dtype ?? (declared && isDType(declared.dtype) ? declared.dtype : undefined);
  if (!dtype) {
    throw new Error(
      `--const ${flag.name}: give its dtype, e.g. ${flag.name}=${JSON.stringify(flag.value)}:float32`,
    );
  }
  const r = parseJsonTensor({ dtype, data: flag.value });
  if (!r.ok) throw new Error(`--const ${flag.name}: ${r.error}`);
  return r.tensor;
}

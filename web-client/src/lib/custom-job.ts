import {
  declaredDim,
  decodeNpz,
  findJobFeedProblems,
  jobFeedProblemsText,
  type Tensor,
  type TensorMap,
} from '@peergrid/shared';
import { declaredInput, type InputSpec } from './feed-check.ts';
import { formatBytes } from './format.ts';
import { parseNpy } from './npy.ts';
import { parseJsonTensors } from './tensor-json.ts';

/** Upload limits of the Submit view. */
export const UPLOAD_LIMITS = {
  /** Largest model file, bytes. Default 64 MiB (the donors' model limit). */
  maxModelBytes: 64 * 1024 * 1024,
  /** Largest single input file, bytes. Default 32 MiB. */
  maxInputBytes: 32 * 1024 * 1024,
  /** Most input files (= tasks) in one job. Default 500. */
  maxInputFiles: 500,
  /** Most bytes one .npz's arrays may inflate to (a compressed archive grows). Default 128 MiB. */
  maxNpzInflatedBytes: 128 * 1024 * 1024,
} as const;

/** One parsed input file: named tensors (.npz, a JSON object) or one unnamed tensor. */
export type ParsedInput =
  | { readonly file: string; readonly named: Readonly<Record<string, Tensor>> }
  | { readonly file: string; readonly tensor: Tensor };

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

export function fileKind(name: string): 'npy' | 'npz' | 'json' | 'image' | null {
  const ext = name.toLowerCase().replace(/^.*\./, '');
  if (ext === 'npy') return 'npy';
  if (ext === 'npz') return 'npz';
  if (ext === 'json') return 'json';
  if (['png', 'jpg', 'jpeg', 'webp', 'gif', 'bmp'].includes(ext)) return 'image';
  return null;
}

/** Size and kind checks before reading anything. */
export function checkUploads(
  model: { name: string; size: number } | null,
  inputs: readonly { name: string; size: number }[],
): string | null {
  if (!model) return 'Choose an ONNX model file.';
  if (!model.name.toLowerCase().endsWith('.onnx')) return `"${model.name}" is not an .onnx file.`;
  if (model.size > UPLOAD_LIMITS.maxModelBytes) {
    return `The model (${formatBytes(model.size)}) is over the ${formatBytes(UPLOAD_LIMITS.maxModelBytes)} limit for models.`;
  }
  if (inputs.length === 0) return 'Choose at least one input file (.npy, .npz, .json or an image).';
  if (inputs.length > UPLOAD_LIMITS.maxInputFiles) {
    return `${inputs.length} input files; at most ${UPLOAD_LIMITS.maxInputFiles} per job.`;
  }
  for (const f of inputs) {
    if (!fileKind(f.name)) return `"${f.name}" is not .npy, .npz, .json or an image.`;
    if (f.size > UPLOAD_LIMITS.maxInputBytes) {
      return `"${f.name}" (${formatBytes(f.size)}) is over the ${formatBytes(UPLOAD_LIMITS.maxInputBytes)} limit per input file.`;
    }
  }
  return null;
}

/** Parses a .npy, .npz or .json input file (images are decoded by the page). */
export function parseInputFile(
  file: string,
  bytes: Uint8Array,
  defaultName: string,
): Checked<ParsedInput> {
  const kind = fileKind(file);
  if (kind === 'npy') {
    const r = parseNpy(bytes);
    return r.ok
      ? { ok: true, value: { file, tensor: r.tensor } }
      : { ok: false, error: `${file}: ${r.error}` };
  }
  if (kind === 'npz') {
    const r = decodeNpz(bytes, { maxBytes: UPLOAD_LIMITS.maxNpzInflatedBytes });
    return r.ok
      ? { ok: true, value: { file, named: r.tensors } }
      : { ok: false, error: `${file}: ${r.error}` };
  }
  const r = parseJsonTensors(new TextDecoder().decode(bytes), defaultName);
  if (!r.ok) return { ok: false, error: `${file}: ${r.error}` };
  const only = r.tensors[defaultName];
  if (!r.named && only) return { ok: true, value: { file, tensor: only } };
  return { ok: true, value: { file, named: r.tensors } };
}

/**
 * One task's feeds per input file, checked against the model's inputs with
 * the shared check; every file's problems are listed. A bare tensor feeds
 * the model's only input; models with several inputs need .npz archives or
 * JSON objects keyed by input name.
 */
export function feedsPerFile(
  inputs: readonly InputSpec[],
  parsed: readonly ParsedInput[],
): Checked<TensorMap[]> {
  const out: { id: string; feeds: TensorMap }[] = [];
  for (const p of parsed) {
    if ('named' in p) {
      out.push({ id: p.file, feeds: p.named });
      continue;
    }
    const only = inputs.length === 1 ? inputs[0] : undefined;
    if (!only) {
      return {
        ok: false,
        error: `${p.file}: the model has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); give them as an .npz or a JSON object keyed by input name.`,
      };
    }
    out.push({ id: p.file, feeds: { [only.name]: p.tensor } });
  }
  const problems = findJobFeedProblems(inputs.map(declaredInput), out);
  if (problems.length > 0) {
    return { ok: false, error: jobFeedProblemsText(problems, { noun: 'file' }) };
  }
  return { ok: true, value: out.map((t) => t.feeds) };
}

/** The size an image must be drawn at for a [1, C, H, W] input, when the model fixes H and W. */
export function imageTarget(
  spec: InputSpec | undefined,
): { channels: 1 | 3; width?: number; height?: number } | null {
  if (spec?.type !== 'float32' || spec.shape.length !== 4) return null;
  // Dynamic dims (symbolic, or onnxruntime-web's 4294967295) leave the size to the image.
  const [, c, h, w] = spec.shape.map(declaredDim);
  const channels = c === 1 ? 1 : c === 3 || typeof c !== 'number' ? 3 : null;
  if (!channels) return null;
  return {
    channels,
    ...(typeof h === 'number' && h > 0 ? { height: h } : {}),
    ...(typeof w === 'number' && w > 0 ? { width: w } : {}),
  };
}

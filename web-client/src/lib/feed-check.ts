import type { DType, TensorMap } from '@peergrid/shared';

/** A model input as ORT describes it: a dtype name and a shape with symbolic dims as strings. */
export interface InputSpec {
  readonly name: string;
  readonly type: string;
  readonly shape: readonly (number | string)[];
}

/**
 * Why `feeds` do not fit the model's inputs, in words, or null when they do.
 * Symbolic dims (strings, or -1) match any size; an empty shape means unknown.
 */
export function checkFeeds(inputs: readonly InputSpec[], feeds: TensorMap): string | null {
  for (const spec of inputs) {
    const t = feeds[spec.name];
    if (!t) {
      const given = Object.keys(feeds);
      return `model input "${spec.name}" is missing (given: ${given.length ? given.join(', ') : 'none'})`;
    }
    if (spec.type !== t.dtype && !(spec.type === 'bool' && t.dtype === 'uint8')) {
      return `input "${spec.name}" must be ${spec.type}, got ${t.dtype}`;
    }
    if (spec.shape.length === 0) continue;
    const fits =
      spec.shape.length === t.dims.length &&
      spec.shape.every((d, i) => typeof d === 'string' || d < 0 || d === t.dims[i]);
    if (!fits) {
      return `input "${spec.name}" must have shape [${spec.shape.join(', ')}], got [${t.dims.join(', ')}]`;
    }
  }
  const known = new Set(inputs.map((i) => i.name));
  const extra = Object.keys(feeds).filter((k) => !known.has(k));
  if (extra.length > 0 && inputs.length > 0) {
    return `the model has no input named ${extra.map((e) => `"${e}"`).join(', ')}`;
  }
  return null;
}

/** Dtypes ORT uses in metadata that PeerGrid cannot carry. */
export function isCarriedType(type: string): type is DType {
  return ['float32', 'float64', 'int32', 'int64', 'uint8', 'int8', 'bool'].includes(type);
}

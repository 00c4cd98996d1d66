/**
 * A model's inputs as the model declares them, in one form whoever read them:
 * the CLI from the ONNX ModelProto, the page from onnxruntime-web's session
 * metadata. Each runtime converts its own reading with {@link declaredDim}.
 */

/**
 * One dim of a declared shape: a fixed size, a symbolic name (ONNX
 * `dim_param`: the same name must have the same size wherever it appears in
 * one run), or null for an unnamed dynamic dim (any size).
 */
export type DeclaredDim = number | string | null;

/** A graph input of a model. */
export interface DeclaredInput {
  readonly name: string;
  /**
   * Element type as ONNX Runtime names it (`float32`, `int64`, `float16`, …),
   * or `non-tensor` for sequence and map inputs.
   */
  readonly dtype: string;
  /** Dims; null when the model does not say (any rank). */
  readonly shape: readonly DeclaredDim[] | null;
  /** An input with a default (an initializer of the same name): it may be left out. Default false. */
  readonly optional?: boolean;
}

/**
 * How onnxruntime-web reports an unnamed dynamic dim: ONNX's -1 read back as
 * a 32-bit unsigned size. (onnxruntime-node reports it as an empty string.)
 */
export const ORT_WEB_DYNAMIC_DIM = 4294967295;

/**
 * A dim as a runtime reports it → a {@link DeclaredDim}: negative numbers,
 * {@link ORT_WEB_DYNAMIC_DIM}, empty strings and absent values are unnamed
 * dynamic dims; other strings are symbolic; other numbers are fixed.
 */
export function declaredDim(raw: unknown): DeclaredDim {
  if (typeof raw === 'string') return raw === '' ? null : raw;
  if (typeof raw === 'bigint') return declaredDim(Number(raw));
  if (typeof raw !== 'number' || !Number.isInteger(raw)) return null;
  return raw < 0 || raw === ORT_WEB_DYNAMIC_DIM ? null : raw;
}

/** A declared shape for messages: symbolic dims by name, unnamed dynamic dims as `?`. */
export function shapeText(shape: readonly DeclaredDim[] | null): string {
  return shape === null ? 'any' : `[${shape.map((d) => (d === null ? '?' : d)).join(', ')}]`;
}

/**
 * Messages between the Node executor and its ort-worker.mjs threads. Replies
 * are parsed at the boundary: a thread is ours, but a reply that does not
 * parse must never crash the pool.
 */
import { type Backend, isDType, type Tensor, type TensorMap } from '@peergrid/shared';

export interface WorkerRunMessage {
  readonly type: 'run';
  readonly backend: Backend;
  readonly modelHash: string;
  /** Sent only when the thread does not hold a session for this model. */
  readonly model: Uint8Array | undefined;
  readonly feeds: TensorMap;
  readonly outputs: readonly string[] | undefined;
}

export type WorkerReply =
  | { readonly type: 'need-model'; readonly evicted: readonly string[] }
  | {
      readonly type: 'result';
      readonly outputs: TensorMap;
      readonly computeMs: number;
      readonly evicted: readonly string[];
    }
  | {
      readonly type: 'error';
      readonly code: string;
      readonly message: string;
      readonly evicted: readonly string[];
    };

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null;
}

function parseTensor(raw: unknown): Tensor | null {
  if (
    !isRecord(raw) ||
    !isDType(raw.dtype) ||
    !(raw.data instanceof Uint8Array) ||
    !Array.isArray(raw.dims)
  ) {
    return null;
  }
  const dims = raw.dims.filter((d): d is number => Number.isInteger(d) && d >= 0);
  if (dims.length !== raw.dims.length) return null;
  return { dtype: raw.dtype, dims, data: raw.data };
}

export function parseWorkerReply(raw: unknown): WorkerReply | null {
  if (!isRecord(raw)) return null;
  const evicted = Array.isArray(raw.evicted)
    ? raw.evicted.filter((k) => typeof k === 'string')
    : [];
  if (raw.type === 'need-model') return { type: 'need-model', evicted };
  if (raw.type === 'error') {
    return { type: 'error', code: String(raw.code), message: String(raw.message), evicted };
  }
  if (raw.type === 'result' && isRecord(raw.outputs) && typeof raw.computeMs === 'number') {
    const outputs: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(raw.outputs)) {
      const tensor = parseTensor(t);
      if (!tensor) return null;
      outputs[name] = tensor;
    }
    return { type: 'result', outputs, computeMs: raw.computeMs, evicted };
  }
  return null;
}

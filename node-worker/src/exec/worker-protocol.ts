/**
 * Messages between the Node executor and its ort-worker.mjs runners. Runs
 * cross in batches: one `runs` message may carry several (a runner runs them
 * in order), and a runner returns what it finished in one `replies` message,
 * sent when its inbox is empty or a few ms after the oldest waiting reply.
 * Replies are parsed at the boundary: a runner is ours, but a reply that
 * does not parse must never crash the pool.
 */
import { type Backend, isDType, type Tensor, type TensorMap } from '@peergrid/shared';

export interface WorkerRun {
  /** Names the run in its reply. */
  readonly id: number;
  readonly backend: Backend;
  readonly modelHash: string;
  /** Sent only when the runner does not hold a session for this model. */
  readonly model: Uint8Array | undefined;
  readonly feeds: TensorMap;
  readonly outputs: readonly string[] | undefined;
}

export interface WorkerRunsMessage {
  readonly type: 'runs';
  readonly runs: readonly WorkerRun[];
}

export type WorkerReply =
  | { readonly type: 'need-model'; readonly id: number }
  | {
      readonly type: 'result';
      readonly id: number;
      readonly outputs: TensorMap;
      readonly computeMs: number;
    }
  | {
      readonly type: 'error';
      readonly id: number;
      readonly code: string;
      readonly message: string;
    };

export interface WorkerReplies {
  readonly replies: readonly WorkerReply[];
  /** Session keys (`backend:hash`) the runner dropped. */
  readonly evicted: readonly string[];
}

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

function parseReply(raw: unknown): WorkerReply | null {
  if (!isRecord(raw) || !Number.isSafeInteger(raw.id)) return null;
  const id = raw.id as number;
  if (raw.type === 'need-model') return { type: 'need-model', id };
  if (raw.type === 'error') {
    return { type: 'error', id, code: String(raw.code), message: String(raw.message) };
  }
  if (raw.type === 'result' && isRecord(raw.outputs) && typeof raw.computeMs === 'number') {
    const outputs: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(raw.outputs)) {
      const tensor = parseTensor(t);
      if (!tensor) return null;
      outputs[name] = tensor;
    }
    return { type: 'result', id, outputs, computeMs: raw.computeMs };
  }
  return null;
}

/** A runner's `replies` message, or null when any part of it is malformed. */
export function parseWorkerReplies(raw: unknown): WorkerReplies | null {
  if (!isRecord(raw) || raw.type !== 'replies' || !Array.isArray(raw.replies)) return null;
  const evicted = Array.isArray(raw.evicted)
    ? raw.evicted.filter((k): k is string => typeof k === 'string')
    : [];
  const replies: WorkerReply[] = [];
  for (const r of raw.replies) {
    const reply = parseReply(r);
    if (!reply) return null;
    replies.push(reply);
  }
  return { replies, evicted };
}

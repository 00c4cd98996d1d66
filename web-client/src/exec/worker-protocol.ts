import type { Backend, TensorMap, WireError } from '@peergrid/shared';
import type { InputSpec } from '../lib/feed-check.ts';

/**
 * What the page asks of one ORT worker (over comlink). Errors come back as
 * data. The pool's runs do not use `run` over comlink: they cross in batches
 * on a port of their own (`connect`, {@link PoolToWorker}).
 */
export interface OrtWorkerApi {
  init(opts: WorkerInit): Promise<WorkerInfo>;
  /** Runs a model; `model` may be omitted when the worker already holds `modelHash`. */
  run(req: WorkerRunRequest): Promise<WorkerReply<WorkerRunResult>>;
  /** Loads a model and describes its inputs and outputs (submit-time checks). */
  inspect(model: Uint8Array): Promise<WorkerReply<ModelInfo>>;
  /** Starts ONNX Runtime (fetches and compiles its WASM) ahead of the first task. */
  warm(): Promise<WorkerReply<void>>;
  /**
   * Destroys this worker's WebGPU device, as a driver reset would (tests of
   * device loss). Resolves false when it holds none.
   */
  destroyDevice?(): Promise<boolean>;
}

/** The Web Worker's comlink surface: the host's calls, and the port its runs cross on. */
export interface OrtWorkerPortApi extends OrtWorkerApi {
  /** Runs arrive on `port` as {@link PoolToWorker} messages; replies go back on it. */
  connect(port: MessagePort): void;
}

/**
 * A run's error code when the GPU device was lost during it: the pool
 * restarts the worker (a new device), the donor hands the lease back.
 */
export const DEVICE_LOST = 'device-lost';

export interface WorkerInit {
  /** Base URL of ORT's .mjs/.wasm files (same origin). */
  readonly wasmPaths: string;
  /** WASM threads per worker; 1 = off. */
  readonly threads: number;
  /** Try the WebGPU execution provider first. */
  readonly gpu: boolean;
}

export interface WorkerInfo {
  readonly backends: readonly Backend[];
  readonly threads: number;
}

export interface WorkerRunRequest {
  readonly modelHash: string;
  readonly model?: Uint8Array;
  readonly feeds: TensorMap;
  readonly outputs?: readonly string[];
  readonly backend?: Backend;
}

export interface WorkerRunResult {
  readonly outputs: TensorMap;
  readonly backend: Backend;
  readonly computeMs: number;
}

export interface ModelInfo {
  readonly inputs: readonly InputSpec[];
  readonly outputs: readonly string[];
  /** The outputs' types and shapes, in the inputs' form (job manifests check stages with them). */
  readonly outputSpecs?: readonly InputSpec[];
}

export type WorkerReply<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: WireError };

/** A worker's error code when it no longer holds a model the pool thought it had. */
export const NEED_MODEL = 'need-model';

/** A run as it crosses to a worker in a batch: a request and the id its reply names. */
export interface WorkerRun extends WorkerRunRequest {
  readonly id: number;
}

/**
 * The pool to a worker's run inbox. `runs`: run these after the ones already
 * there, in order. `cancel`: drop these if they have not started (each then
 * replies `cancelled`); a started or finished one replies as it would.
 */
export type PoolToWorker =
  | { readonly type: 'runs'; readonly runs: readonly WorkerRun[] }
  | { readonly type: 'cancel'; readonly ids: readonly number[] };

/** One run's outcome, named by its id. */
export interface WorkerRunReply {
  readonly id: number;
  readonly reply: WorkerReply<WorkerRunResult>;
}

/** What a worker finished since its last message, in one message (outputs transferred). */
export interface WorkerRepliesMessage {
  readonly type: 'replies';
  readonly replies: readonly WorkerRunReply[];
}

/** The reply code of a run dropped by `cancel` before it started. */
export const CANCELLED = 'cancelled';

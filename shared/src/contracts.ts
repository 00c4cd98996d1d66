/**
 * Small interfaces that tie the packages together. Each runtime implements
 * them once (browser, Node) and tests implement them in memory.
 */
import type { WireError } from './errors.ts';
import type { TensorMap } from './tensor.ts';

/** Peer id: derived from a peer's Ed25519 public key (see identity.ts). */
export type PeerId = string;

/** Execution backends a donor can offer; one class of bitwise-equal results each. */
export type Backend = 'wasm' | 'webgpu' | 'cpu' | 'cuda';

/** What a peer advertises when it joins a grid. */
export interface Capabilities {
  readonly runtime: 'browser' | 'node';
  /** Backends usable on this peer, best first. */
  readonly backends: readonly Backend[];
  readonly cores: number;
  /** Memory the donor is willing to use, MiB. */
  readonly memoryMB: number;
  /** Tasks this peer runs at once. 0 = not donating (a pure submitter). */
  readonly maxConcurrency: number;
  /**
   * Measured speed per backend: tasks per second per slot on a self-test
   * model (`peergrid-worker doctor`'s benchmark, or the donor's own first
   * tasks). A claim: a submitter uses it only to rank the donor until it has
   * timed the donor's results on the job's own model, and never to choose
   * which tasks it gets (see `shared/src/job/speed-book.ts`). Absent: unknown.
   */
  readonly speed?: Readonly<Partial<Record<Backend, number>>>;
}

/**
 * The signaling side a peer transport needs: send an opaque SDP/ICE payload
 * to another peer of the same grid and hear payloads addressed to us. The
 * signaling client implements it; tests implement it in memory.
 */
export interface SignalChannel {
  readonly selfId: PeerId;
  sendSignal(to: PeerId, data: unknown): void;
  /** Returns an unsubscribe function. */
  onSignal(handler: (from: PeerId, data: unknown) => void): () => void;
}

/** One task execution request, as an executor sees it. */
export interface ExecRequest {
  /** SHA-256 hex of the model bytes. */
  readonly modelHash: string;
  readonly model: Uint8Array;
  readonly feeds: TensorMap;
  /** Output names to fetch; all outputs when absent. */
  readonly outputs?: readonly string[];
  /** Hard limit: past it the run is killed with its worker. */
  readonly timeoutMs: number;
  /** Preferred backend; the executor reports the one it used. */
  readonly backend?: Backend;
}

export interface ExecResult {
  readonly outputs: TensorMap;
  readonly backend: Backend;
  /** Pure compute time of the run, ms (for credit). */
  readonly computeMs: number;
}

/**
 * Runs ONNX models: a pool of Web Workers with onnxruntime-web in a page, a
 * pool of worker_threads with onnxruntime-node in Node. Failures reject with
 * a PeerGridError whose code is one of EXEC_ERROR_CODES.
 */
export interface Executor {
  run(req: ExecRequest): Promise<ExecResult>;
  /** Backends this executor can use on this machine, best first. */
  backends(): Promise<readonly Backend[]>;
  readonly concurrency: number;
  /**
   * Runs it takes beyond `concurrency` and holds until a slot is free: it
   * hands them to its workers in batches (fewer messages per task). A donor
   * passes it up to this many of its queued leases early. Default 0.
   */
  readonly prefetch?: number;
  close(): Promise<void>;
}

export const EXEC_ERROR_CODES = [
  'bad-model', // not a parseable ONNX model, or an unsupported operator
  'bad-input', // feeds do not fit the model (names, shapes, dtypes)
  'too-large', // model/input/output over a named limit
  'timeout', // past timeoutMs: the worker was killed
  'backend-unavailable',
  'device-lost', // the GPU device was lost mid-run (driver reset, device destroyed): retry elsewhere
  'internal',
] as const;
export type ExecErrorCode = (typeof EXEC_ERROR_CODES)[number];

export type { WireError };

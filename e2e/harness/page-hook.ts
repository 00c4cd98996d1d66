/**
 * The parts of the page's `window.peergrid` test hook (web-client/TESTIDS.md,
 * `PageRuntime` in web-client/src/state/runtime.ts) this suite reads, declared
 * structurally so the e2e build does not compile the page's sources.
 */

export interface HookTensor {
  readonly dtype: string;
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}
export type HookTensorMap = Readonly<Record<string, HookTensor>>;

interface HookStore<T> {
  get(): T;
}

export interface HookJobDetail {
  readonly id: string;
  readonly state: string;
  readonly total: number;
  readonly verified: number;
  readonly failed: number;
  readonly tasks: readonly { id: string; state: string; replicas: number }[];
  readonly donors: readonly {
    id: string;
    results: number;
    agreed: number;
    disagreed: number;
    excluded: boolean;
  }[];
  readonly agreements: number;
  readonly disagreements: number;
  readonly excluded: number;
  readonly events: readonly { at: number; level: string; text: string }[];
  /** Cumulative verified tasks over time, one point per `task-verified` (and re-open) event. */
  readonly throughput: readonly (readonly [number, number])[];
  readonly error: string | null;
}

export interface PeerGridHook {
  readonly grid: HookStore<{
    signal: string;
    selfId: string | null;
    peers: readonly {
      id: string;
      self: boolean;
      connected: boolean;
      capabilities: { backends: readonly string[] } | null;
    }[];
  }>;
  readonly donor: HookStore<{
    tasksDone: number;
    tasksFailed: number;
    backends: readonly string[];
    gpuAdapter: string | null;
  }>;
  readonly jobs: HookStore<readonly { id: string; state: string; verified: number }[]>;
  setWorkers(n: number): void;
  jobDetail(id: string): HookStore<HookJobDetail | null>;
  jobResults(id: string): Promise<{
    kind: string;
    tasks: readonly { taskId: string; outputs: HookTensorMap | null; labels?: readonly number[] }[];
  } | null>;
  readonly executor: {
    run: (req: {
      modelHash: string;
      model: Uint8Array;
      feeds: HookTensorMap;
      outputs?: readonly string[];
      timeoutMs: number;
      backend?: string;
    }) => Promise<{ outputs: HookTensorMap; backend: string; computeMs: number }>;
    backends(): Promise<readonly string[]>;
  };
}

declare global {
  interface Window {
    peergrid?: PeerGridHook;
  }
}

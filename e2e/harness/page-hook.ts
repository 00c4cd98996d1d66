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
  /** `leases`: leases handed out for the task (replicas, audits, re-issues). Every task when `allTasks`, else a window. */
  readonly tasks: readonly { id: string; state: string; leases: number }[];
  readonly allTasks?: boolean;
  /** Tasks per state over the whole job. */
  readonly taskCounts?: Readonly<Record<string, number>>;
  readonly donors: readonly {
    id: string;
    results: number;
    agreed: number;
    disagreed: number;
    audited: number;
    anchor: boolean;
    excluded: boolean;
  }[];
  readonly agreements: number;
  readonly disagreements: number;
  readonly excluded: number;
  readonly targetError: number;
  /** Highest error bound among accepted results; null before any. */
  readonly achievedError: number | null;
  /** Accepted results under the target error. */
  readonly final: number;
  readonly audits: { issued: number; passed: number; failed: number };
  readonly anchors: readonly { id: string; results: number }[];
  readonly excludedDonors: readonly { donor: string; reason: string }[];
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
  /** A page of the job's tasks (default its first 1,000): `total` tasks in the job, `offset` of the first. */
  jobResults(
    id: string,
    page?: { offset: number; limit: number },
  ): Promise<{
    kind: string;
    tasks: readonly { taskId: string; outputs: HookTensorMap | null; labels?: readonly number[] }[];
    total?: number;
    offset?: number;
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
    /** Runs at once (its workers). */
    readonly concurrency: number;
    /** Runs it takes early beyond `concurrency` (shared's Executor; the page's pool has none). */
    readonly prefetch?: number;
  };
}

declare global {
  interface Window {
    peergrid?: PeerGridHook;
  }
}

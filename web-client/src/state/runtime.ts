import type { JobSpec, TensorMap } from '@peergrid/shared';
import type { WorkerPool } from '../exec/worker-pool.ts';
import type { ModelInfo } from '../exec/worker-protocol.ts';
import type { CreditPoint } from '../grid/credit-history.ts';
import type { StackedNpy } from '../lib/results-npy.ts';
import type { UrlOptions } from '../lib/url-options.ts';
import type { Store } from './store.ts';
import type { DonorView, GridView, JobDetail, JobKind, JobSummary } from './types.ts';

/** A job as the Submit view hands it over. */
export interface JobDraft {
  readonly name: string;
  readonly kind: JobKind;
  readonly spec: JobSpec;
  /** Known answers to show beside results (MNIST labels), by task id. */
  readonly labels?: Readonly<Record<string, readonly number[]>>;
}

export type SubmitResult = { ok: true; jobId: string } | { ok: false; error: string };

/** Inputs and accepted outputs of one task, for the results view and downloads. */
export interface TaskResult {
  readonly taskId: string;
  readonly inputs: TensorMap;
  readonly outputs: TensorMap | null;
  readonly labels?: readonly number[];
}

/** Tasks of a results page when the caller names none. Default 1,000. */
export const RESULTS_PAGE = 1_000;

/** Which tasks of a job's results to read: positions [offset, offset + limit) in the job's order. */
export interface ResultsPage {
  readonly offset: number;
  readonly limit: number;
}

/** A page of a job's tasks with their results (a job of at most one page: all of it). */
export interface JobResults {
  readonly kind: JobKind;
  readonly tasks: readonly TaskResult[];
  /** Tasks in the job. */
  readonly total: number;
  /** Position of `tasks[0]` in the job. */
  readonly offset: number;
}

/** Everything the page does, behind one object the views use. */
export interface PageRuntime {
  readonly options: UrlOptions;
  /** This tab's executor (also reachable as `window.peergrid.executor` for tests). */
  readonly executor: WorkerPool;
  readonly grid: Store<GridView>;
  readonly donor: Store<DonorView>;
  readonly jobs: Store<readonly JobSummary[]>;
  /** False until stored jobs are loaded (job views say "loading" rather than "not found"). */
  readonly jobsReady: Store<boolean>;
  /** Live detail of one job (null while loading or unknown). */
  jobDetail(id: string): Store<JobDetail | null>;
  /** A page of the job's results (default its first `RESULTS_PAGE` tasks), outputs from memory or IndexedDB. */
  jobResults(id: string, page?: ResultsPage): Promise<JobResults | null>;
  /**
   * One output of every task stacked in the job's order as an .npy, read from
   * IndexedDB a page at a time (for jobs too large to hold in memory); an
   * error when a task has no stored output yet or the outputs do not stack.
   */
  resultsNpy(id: string, output: string): Promise<StackedNpy | null>;
  /** The job's stored results as an .npz (`TASK/OUTPUT` entries), read from IndexedDB a page at a time. */
  resultsArchive(id: string): Promise<{ readonly blob: Blob; readonly tasks: number } | null>;
  pause(): void;
  resume(): void;
  /** Share of each worker's time spent running, 0.01–1 (paced: a duty cycle per worker). */
  setCpuShare(share: number): void;
  /** This peer id's verified compute over time, across sessions (page database). */
  creditHistory(): Promise<readonly CreditPoint[]>;
  /** Pause while on battery (Battery Status API). */
  setOnlyWhileCharging(on: boolean): void;
  /** Pause while the computer is in use; call from a click (Idle Detection asks permission). */
  setPauseWhileInUse(on: boolean): Promise<void>;
  setWorkers(n: number): void;
  setGpu(on: boolean): void;
  /** Loads a model in a worker and lists its inputs; rejects with a readable message. */
  inspectModel(model: Uint8Array): Promise<ModelInfo>;
  submit(draft: JobDraft): Promise<SubmitResult>;
  cancelJob(id: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * The submitter's API over a grid peer: submit a job, follow its progress,
 * read its results, cancel it, resume it after a restart. It is the one
 * layer the CLI, the page and programs (`@peergrid/client`) submit through:
 * validation and storage (`prepareJob`), the shared job runner, the store's
 * paged results. Runtime-agnostic: the caller brings the grid peer, the job
 * store and the platform's hash, clock, randomness and timers.
 *
 * Errors are data: a refused call throws a `GridClientError` whose `code` is
 * one of `CLIENT_ERROR_CODES`, and a job's outcome lists its failed tasks
 * with their reasons instead of throwing.
 */
import type { PeerId } from '../contracts.ts';
import { PeerGridError } from '../errors.ts';
import type { GridPeer } from '../grid/grid-peer.ts';
import { createJobRunner, type JobRunner, type JobRunnerOptions } from '../grid/job-runner.ts';
import { type PrepareJobOptions, prepareJob } from '../grid/prepare-job.ts';
import type { JobEngine } from '../job/engine.ts';
import { createReputationBook, type ReputationBook } from '../job/reputation.ts';
import type { JobSpec } from '../job/spec.ts';
import type { JobState, TaskState } from '../job/state.ts';
import type { JobEvent, JobProgress } from '../job/types.ts';
import type { Now, Random, Sha256Hex, Timers } from '../platform.ts';
import type { PeerInfo } from '../signaling/messages.ts';
import { type JobStore, loadJobSpec, type StoredJob } from '../store/job-store.ts';
import type { TensorMap } from '../tensor.ts';
import { type JobInput, toJobSpec } from './job-input.ts';

/** The codes a `GridClientError` carries; stable across releases. */
export const CLIENT_ERROR_CODES = [
  /** The spec or manifest is not a valid job; the message lists every problem. */
  'bad-job',
  /** No job with that id in the store. */
  'unknown-job',
  /** This grid client already runs that job. */
  'job-running',
  /** The signaling server could not be reached or refused to let this peer join. */
  'connect-failed',
  /** The job store failed (disk full, quota, corrupt state). */
  'store-failed',
  /** The grid client was closed. */
  'closed',
] as const;
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];

/** A refused call. `code` is stable; `message` is for people. */
export class GridClientError extends PeerGridError {
  declare readonly code: ClientErrorCode;
  constructor(code: ClientErrorCode, message: string) {
    super(code, message);
    this.name = 'GridClientError';
  }
}

/** What the client needs of the runtime. */
export interface ClientPlatform {
  readonly sha256: Sha256Hex;
  readonly now: Now;
  readonly random: Random;
  readonly timers: Timers;
}

export interface GridClientOptions {
  /** The submitter's grid peer; closed by `close()` through `closePeer`. */
  readonly peer: Pick<GridPeer, 'selfId' | 'signaling' | 'pool' | 'blobs'>;
  /** Where jobs, their progress and results are kept; closed by `close()` when `closeStore`. */
  readonly store: JobStore;
  readonly platform: ClientPlatform;
  /** The submitter's reputation book. Default: loaded from `store.reputations()`. */
  readonly reputation?: ReputationBook;
  /** Runner options every job gets (a local anchor, which peers are donors or anchors, timings). */
  readonly runner?: Omit<
    JobRunnerOptions,
    | 'peer'
    | 'engine'
    | 'spec'
    | 'store'
    | 'reputation'
    | 'now'
    | 'timers'
    | 'onEvent'
    | 'onProgress'
  >;
  /** Engine options every job gets (how much of a large job stays in memory). */
  readonly engine?: PrepareJobOptions['engine'];
  /** Releases the grid peer on `close()` (its connections, signaling). */
  readonly closePeer?: () => Promise<void> | void;
  /** Also closes the store on `close()`. Default false. */
  readonly closeStore?: boolean;
}

/** A failed task, as data. */
export interface TaskFailure {
  readonly taskId: string;
  readonly reason: string;
}

/** How a job ended. */
export interface JobResultSummary {
  readonly jobId: string;
  readonly state: JobState;
  /** True when every task is verified. */
  readonly ok: boolean;
  readonly progress: JobProgress;
  readonly failed: readonly TaskFailure[];
  /** Ended by `stop()` (or the client's `close()`): not finished, resumable. */
  readonly stopped: boolean;
}

/** One verified task's accepted outputs. */
export interface TaskResult {
  readonly taskId: string;
  readonly outputs: TensorMap;
  /** Donors whose results agreed with the accepted one. */
  readonly backers: readonly PeerId[];
}

/** A job this client runs. */
export interface JobHandle {
  readonly id: string;
  /** The store held this job's state: it continued where it stopped. */
  readonly resumed: boolean;
  /** Progress now. */
  snapshot(): JobProgress;
  /**
   * Every resident task's state now: a Map over the tasks in memory, which
   * for a large job may be thousands (views of large jobs use `taskState`).
   */
  taskStates(): Map<string, TaskState>;
  /**
   * One task's state now, in memory or not (a retired task is verified, a
   * group task not reached yet is ready); undefined for an unknown id.
   */
  taskState(taskId: string): TaskState | undefined;
  /** A verified task's accepted outputs while they are in memory; `results()` reads them all. */
  result(taskId: string): TensorMap | undefined;
  /**
   * Progress as it changes (at most one value per runner progress tick; a
   * slow reader sees the latest, not every step), ending once the job is
   * completed, failed or cancelled.
   */
  progress(): AsyncIterable<JobProgress>;
  /** Calls `listener` with every engine event once it is stored; returns the unsubscribe. */
  onEvent(listener: (event: JobEvent) => void): () => void;
  /**
   * Resolves when the job ends, or is stopped; never rejects for failed
   * tasks (see `failed`), only for a store error (`store-failed`).
   */
  readonly done: Promise<JobResultSummary>;
  /** Waits for the end, then every verified task's outputs by task id (from the store: may be large). */
  results(): Promise<Map<string, TensorMap>>;
  /** Verified results from the store, a page at a time; usable while the job runs. */
  resultStream(): AsyncIterable<TaskResult>;
  /** Cancels every lease; resolves like `done`. */
  cancel(): Promise<JobResultSummary>;
  /** Stops without cancelling; the job resumes on a later `resume(id)` or `submit` of the same spec. */
  stop(): Promise<void>;
}

export interface GridClient {
  /** This submitter's peer id. */
  readonly selfId: PeerId;
  /**
   * Validates and stores the job, then runs it. Models may be keyed by any
   * name and feeds given as bare tensors (`JobInput`). The same job again
   * resumes it: a job's id is its content.
   */
  submit(job: JobInput): Promise<JobHandle>;
  /** Runs a stored job again from where it stopped. */
  resume(jobId: string): Promise<JobHandle>;
  /** The jobs in the store. */
  jobs(): Promise<StoredJob[]>;
  /** A job this client runs now. */
  job(jobId: string): JobHandle | undefined;
  /** Peers on the grid offering capacity now. */
  donors(): PeerInfo[];
  /** Stops every job (resumable), then releases the grid peer (and the store when asked). */
  close(): Promise<void>;
}

const TERMINAL: ReadonlySet<JobState> = new Set(['completed', 'failed', 'cancelled']);

function storeError(err: unknown): GridClientError {
  return new GridClientError('store-failed', `the job store failed: ${(err as Error).message}`);
}

/** Follows one job: its runner, the latest progress and who waits for it. */
function createHandle(
  engine: JobEngine,
  resumed: boolean,
  store: JobStore,
  start: (hooks: Pick<JobRunnerOptions, 'onEvent' | 'onProgress'>) => JobRunner,
): JobHandle {
  const jobId = engine.jobId;
  const listeners = new Set<(e: JobEvent) => void>();
  let version = 0;
  let wake: (() => void) | undefined;
  let waiting: Promise<void> = new Promise((r) => {
    wake = r;
  });
  const bump = () => {
    version++;
    const w = wake;
    waiting = new Promise((r) => {
      wake = r;
    });
    w?.();
  };
  const runner = start({
    onEvent: (e) => {
      for (const l of listeners) l(e);
    },
    onProgress: bump,
  });
  let ended = false;
  const summary = (p: JobProgress, stopped: boolean): JobResultSummary => ({
    jobId,
    state: p.state,
    ok: p.state === 'completed',
    progress: p,
    failed: p.failed.map((f) => ({ taskId: f.taskId, reason: f.reason })),
    stopped,
  });
  let stopped: ((s: JobResultSummary) => void) | undefined;
  const whenStopped = new Promise<JobResultSummary>((r) => {
    stopped = r;
  });
  const done = Promise.race([
    runner.done.then((out) => summary(out.progress, false)),
    whenStopped,
  ]).then(
    (s) => {
      ended = true;
      bump();
      return s;
    },
    (err: unknown) => {
      ended = true;
      bump();
      throw storeError(err);
    },
  );
  // A caller that only iterates progress still hears of a store error there.
  done.catch(() => {});
  async function* resultStream(): AsyncGenerator<TaskResult> {
    for await (const r of store.results(jobId)) {
      yield { taskId: r.taskId, outputs: r.outputs, backers: r.backers };
    }
  }
  return {
    id: jobId,
    resumed,
    snapshot: () => runner.progress(),
    taskStates: () => new Map(engine.snapshot().tasks.map((t) => [t.taskId, t.state])),
    taskState: (taskId) => engine.taskState(taskId),
    result: (taskId) => engine.result(taskId),
    async *progress() {
      let seen = -1;
      for (;;) {
        const p = runner.progress();
        if (version !== seen || TERMINAL.has(p.state)) {
          seen = version;
          // "completed" only once the runner stored its last commit.
          if (TERMINAL.has(p.state) && !ended) {
            await waiting;
            continue;
          }
          yield p;
          if (ended) return;
        }
        await waiting;
      }
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    done,
    async results() {
      await done;
      const out = new Map<string, TensorMap>();
      for await (const r of resultStream()) out.set(r.taskId, r.outputs);
      return out;
    },
    resultStream,
    cancel: async () => {
      await runner.cancel();
      return done;
    },
    async stop() {
      await runner.stop();
      stopped?.(summary(runner.progress(), true));
      await done.catch(() => {});
    },
  };
}

/** A grid client over a joined grid peer. */
export async function createGridClient(o: GridClientOptions): Promise<GridClient> {
  const { store, platform, peer } = o;
  let reputation = o.reputation;
  if (!reputation) {
    try {
      reputation = createReputationBook(await store.reputations());
    } catch (err) {
      throw storeError(err);
    }
  }
  const book = reputation;
  const running = new Map<string, JobHandle>();
  let closed = false;

  async function run(spec: JobSpec): Promise<JobHandle> {
    if (closed) throw new GridClientError('closed', 'this grid client is closed');
    let prepared: Awaited<ReturnType<typeof prepareJob>>;
    try {
      prepared = await prepareJob({
        spec,
        store,
        reputation: book,
        ...platform,
        ...(o.engine ? { engine: o.engine } : {}),
      });
    } catch (err) {
      if (err instanceof PeerGridError && err.code === 'bad-job') {
        throw new GridClientError('bad-job', err.message);
      }
      throw storeError(err);
    }
    const { jobId, engine, resumed } = prepared;
    if (running.has(jobId)) {
      throw new GridClientError('job-running', `job ${jobId.slice(0, 16)} is already running here`);
    }
    const handle = createHandle(engine, resumed, store, (hooks) =>
      createJobRunner({
        ...o.runner,
        ...hooks,
        peer,
        engine,
        spec,
        store,
        reputation: book,
        now: platform.now,
        timers: platform.timers,
      }),
    );
    running.set(jobId, handle);
    handle.done.then(
      () => running.delete(jobId),
      () => running.delete(jobId),
    );
    return handle;
  }

  return {
    selfId: peer.selfId,
    submit: async (job) => run(await toJobSpec(job, platform.sha256)),
    async resume(jobId) {
      let spec: JobSpec | undefined;
      try {
        spec = await loadJobSpec(store, jobId);
      } catch (err) {
        throw storeError(err);
      }
      if (!spec) throw new GridClientError('unknown-job', `no job ${jobId} in the store`);
      return run(spec);
    },
    async jobs() {
      try {
        return await store.listJobs();
      } catch (err) {
        throw storeError(err);
      }
    },
    job: (jobId) => running.get(jobId),
    donors: () =>
      [...peer.signaling.peers().values()].filter(
        (p) => p.capabilities.maxConcurrency > 0 && p.id !== peer.selfId,
      ),
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...running.values()].map((h) => h.stop()));
      running.clear();
      await o.closePeer?.();
      if (o.closeStore) await store.close();
    },
  };
}

import type {
  GridClient,
  JobEvent,
  JobHandle,
  JobProgress,
  JobSpec,
  JobStore,
  PeerId,
  ReputationBook,
  TaskSource,
  TaskSpec,
  TaskState,
  Tensor,
  TensorMap,
} from '@peergrid/shared';
import {
  canonicalBytes,
  createGridClient,
  createTaskSource,
  jobIdOf,
  loadJobSpec,
  PeerGridError,
  resolvePolicy,
} from '@peergrid/shared';
import { type StackedNpy, stackedNpyBlob } from '../lib/results-npy.ts';
import {
  type JobDraft,
  type JobResults,
  RESULTS_PAGE,
  type ResultsPage,
  type SubmitResult,
  type TaskResult,
} from '../state/runtime.ts';
import type { JobDetail, JobSummary, TaskCellState } from '../state/types.ts';
import type { GridNode } from './grid-node.ts';
import { buildJobDetail, type JobViewInput, summarize } from './job-view-model.ts';
import type { JobMeta, PageDb } from './page-db.ts';
import { now, random, sha256, timers } from './platform.ts';
import { claimJob } from './tab-locks.ts';
import { createTaskWindow, TASK_WINDOW, type TaskWindow } from './task-states.ts';

/** Events of a job the page keeps, as its IndexedDB store does (`maxEventsPerJob`). */
const EVENTS_KEPT = 10_000;
/** Points of a job's sampled verified-over-time series; past it every other one is dropped. Default 600. */
export const SAMPLES_KEPT = 600;

/** What a job host holds per job, for tests: each bounded, whatever the job's size. */
export interface HostFootprint {
  /** Tasks whose told state it keeps (≤ `TASK_WINDOW`). */
  readonly taskStates: number;
  /** Events kept for the views (≤ 2 × the store's `maxEventsPerJob`). */
  readonly events: number;
  /** Points of the sampled progress series (≤ `SAMPLES_KEPT`). */
  readonly samples: number;
}

/** Engine options the page's jobs get (`?resident=` sets `residentVerified`). */
export interface HostEngineOptions {
  readonly residentVerified?: number;
}

/** The jobs this tab coordinates: stored first, run by the shared job runner, resumed after a reload. */
export interface JobHost {
  submit(draft: JobDraft): Promise<SubmitResult>;
  summaries(): JobSummary[];
  detail(jobId: string): JobDetail | null;
  /**
   * A page of the job's tasks with their inputs and accepted outputs, in the
   * job's order (default the first `RESULTS_PAGE`): outputs still in memory
   * from the engine, the others read from the job store.
   */
  results(jobId: string, page?: ResultsPage): Promise<JobResults | null>;
  /** What the host holds for a job (null for an unknown one). */
  footprint(jobId: string): HostFootprint | null;
  /** One output of every task stacked in the job's order, read from the store a page at a time. */
  stackedOutput(jobId: string, output: string): Promise<StackedNpy | null>;
  cancel(jobId: string): void;
  close(): Promise<void>;
}

interface Hosted {
  readonly job: JobHandle;
  readonly spec: JobSpec;
  /** Every task, explicit and from groups, by position (built on demand, never all held). */
  readonly source: TaskSource;
  readonly meta: JobMeta;
  /** The told states of the tasks that changed last (a job of ≤ TASK_WINDOW tasks: all that changed). */
  readonly window: TaskWindow;
  readonly events: JobEvent[];
  /** Verified tasks over time, sampled at progress ticks: [epoch ms, count]. */
  readonly samples: [number, number][];
  error: string | null;
  /** The runner is done: its last commit is stored and its events told. */
  ended: boolean;
}

/** Tasks per state over a list of cells. */
function countStates(cells: readonly TaskCellState[]): Record<TaskState, number> {
  const counts: Record<TaskState, number> = {
    blocked: 0,
    ready: 0,
    running: 0,
    verified: 0,
    failed: 0,
  };
  for (const c of cells) counts[c.state]++;
  return counts;
}

/** Literal feed tensors become content-addressed blobs, so each is stored once. */
export async function blobify(spec: JobSpec): Promise<JobSpec> {
  const blobs: Record<string, Tensor> = { ...(spec.blobs ?? {}) };
  const hashes = new Map<Tensor, string>();
  const tasks: TaskSpec[] = [];
  for (const t of spec.tasks) {
    const feeds: Record<string, TaskSpec['feeds'][string]> = {};
    for (const [name, f] of Object.entries(t.feeds)) {
      if ('tensor' in f) {
        let h = hashes.get(f.tensor);
        if (!h) {
          h = await sha256(canonicalBytes(f.tensor));
          hashes.set(f.tensor, h);
          blobs[h] = f.tensor;
        }
        feeds[name] = { blob: h };
      } else feeds[name] = f;
    }
    tasks.push({ ...t, feeds });
  }
  return { ...spec, blobs, tasks };
}

/** The inputs of a task as the results view shows them (literal feeds and blobs). */
export function taskInputs(
  spec: JobSpec,
  taskId: string,
  source = createTaskSource(spec),
): TensorMap {
  const at = source.indexOf(taskId);
  const task = at < 0 ? undefined : source.at(at);
  const out: Record<string, Tensor> = {};
  for (const [name, f] of Object.entries(task?.feeds ?? {})) {
    if ('tensor' in f) out[name] = f.tensor;
    else if ('blob' in f) {
      const t = spec.blobs?.[f.blob];
      if (t) out[name] = t;
    }
  }
  return out;
}

export async function createJobHost(o: {
  store: JobStore;
  db: PageDb;
  node: GridNode;
  book: ReputationBook;
  onChange: () => void;
  engine?: HostEngineOptions;
}): Promise<JobHost> {
  const { store, db, node, book } = o;
  const jobs = new Map<string, Hosted>();

  // The page submits through the same client as the CLI and programs.
  const view = node.submitterView;
  const selfId = node.identity.id;
  const client: GridClient = await createGridClient({
    peer: { selfId, signaling: view.presence, pool: view.pool, blobs: node.peer.blobs },
    store,
    reputation: book,
    platform: { sha256, now, random, timers },
    runner: {
      // Every peer offering capacity donates, this tab included (over its loopback link).
      isDonor: (p) => p.capabilities.maxConcurrency > 0,
      // This tab's results come from its own executor: right by construction, an anchor.
      isAnchor: (id) => id === selfId,
    },
    ...(o.engine ? { engine: o.engine } : {}),
  });

  async function host(spec: JobSpec, meta: JobMeta): Promise<string> {
    const jobId = await jobIdOf(spec, sha256);
    if (jobs.has(jobId)) return jobId;
    if (!(await claimJob(jobId))) {
      throw new PeerGridError('job-elsewhere', 'another tab of this browser is running this job');
    }
    // Read before the runner starts: it tells new events only once they are stored.
    const events: JobEvent[] = await store.events(jobId);
    const job = await client.submit(spec);
    const source = createTaskSource(spec);
    // No per-task objects for the whole job: the states of the tasks that changed last, and
    // the engine's state of any other task when a view asks (`taskState`).
    const window = createTaskWindow(TASK_WINDOW);
    for (const e of events) window.apply(e);
    // A resumed engine put what was in flight back to ready without an event: its states win.
    if (job.resumed)
      for (const [id] of [...window.entries()]) {
        const state = job.taskState(id);
        if (state !== undefined) window.correct(id, state);
      }
    job.onEvent((e) => {
      events.push(e);
      // The store keeps the newest EVENTS_KEPT; so does the view (dropped in batches).
      if (events.length > 2 * EVENTS_KEPT) events.splice(0, events.length - EVENTS_KEPT);
      window.apply(e);
      o.onChange();
    });
    const h: Hosted = {
      job,
      spec,
      source,
      meta,
      window,
      events,
      samples: [],
      error: null,
      ended: false,
    };
    sample(h);
    jobs.set(jobId, h);
    void (async () => {
      for await (const _ of job.progress()) {
        sample(h);
        o.onChange();
      }
    })().catch(() => {});
    job.done.then(
      () => {
        h.ended = true;
        o.onChange();
      },
      (e: unknown) => {
        h.ended = true;
        h.error = `Storing the job's progress failed: ${(e as Error).message ?? String(e)}`;
        o.onChange();
      },
    );
    return jobId;
  }

  // Resume every stored job (finished ones load too, to be shown) that no other tab runs.
  for (const j of await store.listJobs()) {
    try {
      if (!(await claimJob(j.jobId))) continue;
      const spec = await loadJobSpec(store, j.jobId);
      if (!spec) continue;
      const meta = (await db.getMeta(j.jobId)) ?? {
        jobId: j.jobId,
        kind: 'custom' as const,
        createdAt: j.createdAt,
      };
      await host(spec, meta);
    } catch (e) {
      console.warn(`job ${j.jobId} could not be resumed`, e);
    }
  }

  /** The engine's progress, but "running" until the runner has stored and told everything. */
  function shownProgress(h: Hosted): JobProgress {
    const p = h.job.snapshot();
    return h.ended || p.state === 'running' || p.state === 'pending'
      ? p
      : { ...p, state: 'running' };
  }

  /** Adds a point to the verified-over-time series when the count moved; halves it when full. */
  function sample(h: Hosted): void {
    const verified = h.job.snapshot().tasks.verified;
    const last = h.samples.at(-1);
    if (last && last[1] === verified) return;
    h.samples.push([now(), verified]);
    if (h.samples.length > SAMPLES_KEPT) {
      const kept = h.samples.filter((_, i) => i % 2 === 0 || i === h.samples.length - 1);
      h.samples.splice(0, h.samples.length, ...kept);
    }
  }

  /** A task's state as the views show it: told (the window), else the engine's. */
  const stateOf = (h: Hosted, id: string): TaskState =>
    h.window.get(id) ?? h.job.taskState(id) ?? 'blocked';

  /**
   * The task grid's cells: every task in order for a job of at most
   * TASK_WINDOW tasks, else the window's (the tasks that changed last, in flight
   * among them) in the job's order.
   */
  function cells(h: Hosted): { cells: TaskCellState[]; all: boolean } {
    const n = h.source.count;
    if (n <= TASK_WINDOW) {
      const out: TaskCellState[] = [];
      for (let i = 0; i < n; i++) {
        const id = h.source.idAt(i);
        out.push({ id, state: stateOf(h, id) });
      }
      return { cells: out, all: true };
    }
    const held = [...h.window.entries()].map(([id, state]) => ({
      id,
      state,
      at: h.source.indexOf(id),
    }));
    held.sort((a, b) => a.at - b.at);
    return { cells: held.map(({ id, state }) => ({ id, state })), all: false };
  }

  function viewInput(jobId: string, h: Hosted): JobViewInput {
    const policy = resolvePolicy(h.spec.policy);
    const progress = shownProgress(h);
    const shown = cells(h);
    // A whole job's cells count as they are shown (told after their commit); a large job's
    // come from the engine's counters.
    const counts = shown.all ? countStates(shown.cells) : progress.tasks;
    return {
      jobId,
      name: h.spec.name ?? jobId.slice(0, 12),
      kind: h.meta.kind,
      createdAt: h.meta.createdAt,
      policy,
      cells: shown.cells,
      allTasks: shown.all,
      counts,
      progress,
      events: h.events,
      samples: h.samples,
      reputation: (p: PeerId) => book.get(p),
      isAnchor: (p: PeerId) => p === node.identity.id || policy.trustedDonors.includes(p),
    };
  }

  async function resultsPage(h: Hosted, page: ResultsPage | undefined): Promise<JobResults> {
    const total = h.source.count;
    const offset = Math.max(0, Math.min(total, Math.floor(page?.offset ?? 0)));
    const limit = Math.max(1, Math.floor(page?.limit ?? RESULTS_PAGE));
    const end = Math.min(total, offset + limit);
    const ids: string[] = [];
    for (let i = offset; i < end; i++) ids.push(h.source.idAt(i));
    // Outputs of retired tasks are in the store only: one read for the page's.
    const wanted = ids.filter((id) => !h.job.result(id) && h.job.taskState(id) === 'verified');
    const stored = new Map<string, TensorMap>();
    if (wanted.length > 0) {
      for (const r of await store.getResults(h.job.id, wanted)) stored.set(r.taskId, r.outputs);
    }
    const tasks: TaskResult[] = ids.map((id) => ({
      taskId: id,
      inputs: taskInputs(h.spec, id, h.source),
      outputs: h.job.result(id) ?? stored.get(id) ?? null,
      ...(h.meta.labels?.[id] ? { labels: h.meta.labels[id] } : {}),
    }));
    return { kind: h.meta.kind, tasks, total, offset };
  }

  return {
    async submit(draft) {
      try {
        const spec = await blobify(draft.spec);
        const jobId = await jobIdOf(spec, sha256);
        if (jobs.has(jobId)) return { ok: true, jobId };
        const meta: JobMeta = {
          jobId,
          kind: draft.kind,
          createdAt: now(),
          ...(draft.labels ? { labels: draft.labels } : {}),
        };
        await db.putMeta(meta);
        // prepareJob stores the job and its blobs before anything is sent.
        await host(spec, meta);
        o.onChange();
        return { ok: true, jobId };
      } catch (e) {
        if (e instanceof PeerGridError && e.code === 'bad-job')
          return { ok: false, error: `The job is not valid: ${e.message}` };
        return {
          ok: false,
          error: `Could not store the job in this browser: ${(e as Error).message ?? String(e)}`,
        };
      }
    },
    summaries: () =>
      [...jobs.entries()]
        .map(([id, h]) => summarize(viewInput(id, h)))
        .sort((a, b) => b.createdAt - a.createdAt),
    detail(jobId) {
      const h = jobs.get(jobId);
      if (!h) return null;
      const d = buildJobDetail(viewInput(jobId, h));
      return h.error ? { ...d, error: h.error } : d;
    },
    async results(jobId, page) {
      const h = jobs.get(jobId);
      return h ? resultsPage(h, page) : null;
    },
    async stackedOutput(jobId, output) {
      const h = jobs.get(jobId);
      if (!h) return null;
      return stackedNpyBlob({
        store,
        jobId,
        count: h.source.count,
        idAt: (i) => h.source.idAt(i),
        output,
      });
    },
    footprint(jobId) {
      const h = jobs.get(jobId);
      if (!h) return null;
      return { taskStates: h.window.size, events: h.events.length, samples: h.samples.length };
    },
    cancel(jobId) {
      void jobs.get(jobId)?.job.cancel();
    },
    async close() {
      await client.close();
    },
  };
}

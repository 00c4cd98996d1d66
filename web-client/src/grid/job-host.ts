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
import type { JobDraft, JobResults, SubmitResult } from '../state/runtime.ts';
import type { JobDetail, JobSummary } from '../state/types.ts';
import type { GridNode } from './grid-node.ts';
import { buildJobDetail, type JobViewInput, summarize } from './job-view-model.ts';
import type { JobMeta, PageDb } from './page-db.ts';
import { now, random, sha256, timers } from './platform.ts';
import { claimJob } from './tab-locks.ts';
import { applyTaskEvent } from './task-states.ts';

/** Events of a job the page keeps, as its IndexedDB store does (`maxEventsPerJob`). */
const EVENTS_KEPT = 10_000;

/** The jobs this tab coordinates: stored first, run by the shared job runner, resumed after a reload. */
export interface JobHost {
  submit(draft: JobDraft): Promise<SubmitResult>;
  summaries(): JobSummary[];
  detail(jobId: string): JobDetail | null;
  results(jobId: string): JobResults | null;
  cancel(jobId: string): void;
  close(): Promise<void>;
}

interface Hosted {
  readonly job: JobHandle;
  readonly spec: JobSpec;
  /** Every task, explicit and from groups, by position. */
  readonly source: TaskSource;
  readonly ids: readonly string[];
  readonly meta: JobMeta;
  readonly taskStates: Map<string, TaskState>;
  readonly events: JobEvent[];
  error: string | null;
  /** The runner is done: its last commit is stored and its events told. */
  ended: boolean;
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
    const ids = Array.from({ length: source.count }, (_, i) => source.idAt(i));
    const taskStates = new Map<string, TaskState>(ids.map((id) => [id, 'blocked']));
    if (job.resumed) for (const [id, state] of job.taskStates()) taskStates.set(id, state);
    job.onEvent((e) => {
      events.push(e);
      // The store keeps the newest EVENTS_KEPT; so does the view (dropped in batches).
      if (events.length > 2 * EVENTS_KEPT) events.splice(0, events.length - EVENTS_KEPT);
      applyTaskEvent(taskStates, e);
      o.onChange();
    });
    const h: Hosted = {
      job,
      spec,
      source,
      ids,
      meta,
      taskStates,
      events,
      error: null,
      ended: false,
    };
    jobs.set(jobId, h);
    void (async () => {
      for await (const _ of job.progress()) o.onChange();
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

  function viewInput(jobId: string, h: Hosted): JobViewInput {
    const policy = resolvePolicy(h.spec.policy);
    return {
      jobId,
      name: h.spec.name ?? jobId.slice(0, 12),
      kind: h.meta.kind,
      createdAt: h.meta.createdAt,
      policy,
      taskIds: h.ids,
      taskStates: h.taskStates,
      progress: shownProgress(h),
      events: h.events,
      reputation: (p: PeerId) => book.get(p),
      isAnchor: (p: PeerId) => p === node.identity.id || policy.trustedDonors.includes(p),
    };
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
    results(jobId) {
      const h = jobs.get(jobId);
      if (!h) return null;
      return {
        kind: h.meta.kind,
        tasks: h.ids.map((id) => ({
          taskId: id,
          inputs: taskInputs(h.spec, id, h.source),
          outputs: h.job.result(id) ?? null,
          ...(h.meta.labels?.[id] ? { labels: h.meta.labels[id] } : {}),
        })),
      };
    },
    cancel(jobId) {
      void jobs.get(jobId)?.job.cancel();
    },
    async close() {
      await client.close();
    },
  };
}

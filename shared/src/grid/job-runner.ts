/**
 * The job runner: carries out a job engine's actions on a grid peer. It turns
 * `assign` actions into task requests on the donor's link (connecting on
 * demand), feeds acks, results, errors and timeouts back into the engine,
 * maps presence and link loss into donor availability, ticks the engine,
 * serves the job's models, commits every engine delta to the job store in
 * order (a burst of inputs shares one commit), tells donors how their results fared (a `verdict`
 * for each `lease-verdict` the engine decided), and resolves when the job is done. Runtime-agnostic:
 * the CLI and the page both use it.
 */
import type { Capabilities, Executor, PeerId } from '../contracts.ts';
import type { WireError } from '../errors.ts';
import { canonicalBytes } from '../job/compare.ts';
import type { JobEngine } from '../job/engine.ts';
import type { ReputationBook } from '../job/reputation.ts';
import { type FeedSpec, type GroupFeedSpec, type JobSpec, resolvePolicy } from '../job/spec.ts';
import type { JobState } from '../job/state.ts';
import { createTaskSource } from '../job/task-source.ts';
import type { EngineAction, JobEvent, JobProgress } from '../job/types.ts';
import { FEED_REF_MIN_BYTES, FEED_REFS_PROTOCOL, type FeedRef } from '../peer/feed-refs.ts';
import type { PeerLink } from '../peer/link.ts';
import { PEER_MESSAGE_LIMITS } from '../peer/messages.ts';
import { createTaskClient, type TaskClientEvent } from '../peer/task-client.ts';
import type { Now, Timers } from '../platform.ts';
import type { PeerInfo } from '../signaling/messages.ts';
import type { JobStore } from '../store/job-store.ts';
import type { Tensor, TensorMap } from '../tensor.ts';
import { createCommitQueue } from './commit-queue.ts';
import { createDonorRoster } from './donor-roster.ts';
import type { GridPeer } from './grid-peer.ts';
import { leaseWindow } from './lease-window.ts';

export interface JobRunnerOptions {
  /** The submitter's grid peer (presence, pool, blob exchange). Not closed by the runner. */
  readonly peer: Pick<GridPeer, 'selfId' | 'signaling' | 'pool' | 'blobs'>;
  /** An engine for `spec` (see `prepareJob`), restored from the store when resuming. */
  readonly engine: JobEngine;
  readonly spec: JobSpec;
  /** The job must already be in the store (`putJob`); every delta is committed here in order. */
  readonly store: JobStore;
  /** The engine's reputation book; changed records are committed with each delta. */
  readonly reputation?: ReputationBook;
  readonly now: Now;
  readonly timers: Timers;
  /** Period of `engine.tick()` (lease expiry), ms. Default 1000. */
  readonly tickMs?: number;
  /** Least time between two `onProgress` calls, ms. Default 250. */
  readonly progressMs?: number;
  /** A donor whose link failed is offered to the engine again after this long, ms. Default 2000. */
  readonly retryDonorMs?: number;
  /**
   * Leases per donor slot at least, so the next task waits in the donor's
   * queue while one runs. Once a donor's round trip and task time are
   * measured, its window grows to cover the round trip (`leaseWindow`),
   * under the limit the donor reports. Default 2.
   */
  readonly pipeline?: number;
  /**
   * Engine inputs between two commit starts before more wait for the store
   * (backpressure). Default `MAX_INPUTS_PER_COMMIT`.
   */
  readonly maxInputsPerCommit?: number;
  /** Which peers to use as donors. Default: `maxConcurrency > 0`, not ourselves. */
  readonly isDonor?: (peer: PeerInfo) => boolean;
  /**
   * Donors reached over links whose results are right by construction (the
   * page's own tab, the submitter's own node workers). Donors named in the
   * policy's `trustedDonors` are anchors anyway. Default none.
   */
  readonly isAnchor?: (id: PeerId) => boolean;
  /**
   * The submitter's own executor as an anchor (the CLI's onnxruntime-node):
   * it joins the job as donor `peer.selfId` and runs its leases in-process.
   * The engine gives it `policy.anchorShare` of fresh tasks and the disputes
   * an anchor settles. Default none.
   */
  readonly localAnchor?: {
    readonly executor: Executor;
    /** Slots it offers the job. Default `executor.concurrency`. */
    readonly concurrency?: number;
    readonly backend: Capabilities['backends'][number];
  };
  readonly onProgress?: (progress: JobProgress) => void;
  /**
   * Every engine event, in order (logs, UI), once the commit that holds its
   * change is in the store: a task shown verified stays verified after a reload.
   */
  readonly onEvent?: (event: JobEvent) => void;
}

export interface JobOutcome {
  readonly jobId: string;
  readonly state: JobState;
  readonly progress: JobProgress;
  /**
   * Accepted outputs by task id of the verified tasks still in memory: all of
   * them unless the job retired some (`progress.retired`), whose results
   * the store holds (`store.results(jobId)`).
   */
  readonly results: ReadonlyMap<string, TensorMap>;
}

export interface JobRunner {
  readonly jobId: string;
  /** Resolves when the job is completed, failed or cancelled, after its last commit. Rejects on a store error. */
  readonly done: Promise<JobOutcome>;
  progress(): JobProgress;
  /** Cancels the job (every lease) and resolves like `done`. */
  cancel(): Promise<JobOutcome>;
  /**
   * Stops without cancelling: leases are withdrawn from donors, state is
   * committed; a later runner over the restored engine resumes the job.
   */
  stop(): Promise<void>;
}

/** Donor errors after which the donor is set aside for `retryDonorMs` (busy: its queue is full, e.g. other submitters). */
const LEAVING_CODES = new Set([
  'paused',
  'shutting-down',
  'disconnected',
  'connect-failed',
  'send-failed',
  'busy',
]);
/** Credit totals go out at most this often (and at each tick and the job's end), ms. */
const CREDIT_EVERY_MS = 250;
const TERMINAL = new Set(['job-completed', 'job-failed', 'job-cancelled']);
/** Engine inputs between two commit starts before more wait (backpressure from the store). Default 4,096. */
export const MAX_INPUTS_PER_COMMIT = 4_096;

export function createJobRunner(opts: JobRunnerOptions): JobRunner {
  const { engine, spec, peer, timers, now } = opts;
  const jobId = engine.jobId;
  const policy = resolvePolicy(spec.policy);
  const tickMs = opts.tickMs ?? 1000;
  const progressMs = opts.progressMs ?? 250;
  const retryDonorMs = opts.retryDonorMs ?? 2000;
  const pipeline = Math.max(1, opts.pipeline ?? 2);
  const isDonor =
    opts.isDonor ?? ((p: PeerInfo) => p.capabilities.maxConcurrency > 0 && p.id !== peer.selfId);
  /** Events whose changes the next commit writes; `onEvent` hears them after it. */
  let uncommitted: JobEvent[] = [];
  // One commit per burst of inputs (a 0 ms timer), not one per input; `finish`/`stop` flush.
  const commits = createCommitQueue(
    async () => {
      const events = uncommitted;
      uncommitted = [];
      const delta = engine.takeDelta();
      // What waited for this commit to start goes on while it runs (see `input`).
      sinceCommit = 0;
      if (inbox.length > 0) void Promise.resolve().then(() => drain());
      await opts.store.commit(jobId, delta, opts.reputation?.takeChanged() ?? []);
      if (opts.onEvent) for (const ev of events) opts.onEvent(ev);
    },
    { defer: (run) => void timers.setTimeout(run, 0) },
  );
  const leaseDonor = new Map<string, PeerId>();
  /** Leases the local anchor is running. */
  const localLeases = new Set<string>();
  const inbox: (() => EngineAction[])[] = [];
  /**
   * Engine inputs since the last commit started. Past `maxInputs`
   * new inputs wait for the next commit to start: a store slower than the
   * donors holds back new leases (reports wait, so no new work is placed)
   * instead of letting uncommitted state grow with the job.
   */
  let sinceCommit = 0;
  const maxInputs = Math.max(1, opts.maxInputsPerCommit ?? MAX_INPUTS_PER_COMMIT);
  let busy = false;
  let finished = false;
  let tickTimer: unknown;
  let lastProgress = -Infinity;
  let lastCredits = -Infinity;
  let resolveDone!: (o: JobOutcome) => void;
  let rejectDone!: (e: unknown) => void;
  const done = new Promise<JobOutcome>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });

  /** Each donor's compute time per task, ms (EWMA of what it reported). */
  const taskMs = new Map<PeerId, number>();
  const slotsFor = (info: PeerInfo) => {
    const slots = info.capabilities.maxConcurrency;
    const link = peer.pool.get(info.id);
    return leaseWindow({
      slots,
      rttMs: link?.rttMs,
      taskMs: taskMs.get(info.id),
      minPerSlot: pipeline,
      // A version 1 donor reports no limit: no more than the pipeline asks.
      maxLeases: link?.remoteLoad?.limit ?? slots * pipeline,
      deadlineMs: policy.taskDeadlineMs,
    });
  };
  const roster = createDonorRoster({
    presence: peer.signaling,
    pool: peer.pool,
    timers,
    isDonor,
    ...(opts.isAnchor ? { isAnchor: opts.isAnchor } : {}),
    slotsFor,
    retryDonorMs,
    available: (info) => input(() => engine.donorAvailable(info)),
    gone: (id) => input(() => engine.donorGone(id)),
  });
  const setAside = (id: PeerId) => {
    if (!finished) roster.setAside(id);
  };
  const taskClient = createTaskClient({
    timers,
    ackTimeoutMs: policy.ackTimeoutMs,
    onEvent: onTaskEvent,
  });

  /** This run's name in the `credit` totals it sends (a resumed job is a new session). */
  const session = `${Math.floor(now()).toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  /** Per donor of version 4: the totals of its verdicts in this session, and whether they are unsent. */
  const credits = new Map<
    PeerId,
    { accepted: number; verifiedMs: number; rejected: number; unsent: boolean }
  >();

  /**
   * Tells a donor how its lease's result fared (best effort; informational):
   * a version 4 donor in its totals, sent within CREDIT_EVERY_MS (or at the next tick, or the job's end);
   * an older one with a `verdict` now.
   */
  const tellVerdict = (ev: JobEvent) => {
    if (ev.donor === undefined || ev.leaseId === undefined || ev.verdict === undefined) return;
    const link = peer.pool.get(ev.donor);
    const creditMs = Math.min(ev.creditMs ?? 0, PEER_MESSAGE_LIMITS.maxVerdictCreditMs);
    // A version 4 donor whose link is down meanwhile still has it in its totals (sent once it is back).
    if (link ? link.remoteProtocol >= 4 : credits.has(ev.donor)) {
      let c = credits.get(ev.donor);
      if (!c) {
        c = { accepted: 0, verifiedMs: 0, rejected: 0, unsent: false };
        credits.set(ev.donor, c);
      }
      if (ev.verdict === 'accepted') {
        c.accepted++;
        c.verifiedMs += creditMs;
      } else c.rejected++;
      c.unsent = true;
      return;
    }
    void link
      ?.send({ type: 'verdict', leaseId: ev.leaseId, jobId, verdict: ev.verdict, creditMs })
      .catch(() => {});
  };

  /** Sends each donor whose totals moved its `credit` message. */
  const sendCredits = () => {
    for (const [donor, c] of credits) {
      if (!c.unsent) continue;
      const link = peer.pool.get(donor);
      if (!link) continue; // told with the next change, if it comes back
      c.unsent = false;
      const L = PEER_MESSAGE_LIMITS;
      const accepted = Math.min(c.accepted, L.maxCreditCount);
      const rejected = Math.min(c.rejected, L.maxCreditCount);
      const verifiedMs = Math.min(c.verifiedMs, L.maxCreditTotalMs);
      void link
        .send({ type: 'credit', jobId, session, accepted, verifiedMs, rejected })
        .catch(() => {});
    }
  };

  function onTaskEvent(ev: TaskClientEvent): void {
    leaseDonor.delete(ev.leaseId);
    if (finished) return;
    if (ev.type === 'acked') input(() => engine.acked(ev.leaseId));
    else if (ev.type === 'reported') {
      const ms = Math.max(0.01, ev.report.computeMs);
      const was = taskMs.get(ev.peerId);
      taskMs.set(ev.peerId, was === undefined ? ms : was + 0.2 * (ms - was));
      if (was === undefined) roster.refresh(); // its first task time: its window now, not at the next tick
      input(() => engine.reported(ev.leaseId, ev.report.outputs, ev.report.computeMs));
    } else {
      input(() => engine.errored(ev.leaseId, ev.error));
      if (LEAVING_CODES.has(ev.error.code)) setAside(ev.peerId);
    }
  }

  /** Runs engine inputs one at a time (a handler may call back in) and carries out their actions. */
  function input(fn: () => EngineAction[]): void {
    if (finished) return;
    inbox.push(fn);
    drain();
  }

  /** Feeds the engine what waits; `all` ignores the limit (a stop takes in every report first). */
  function drain(all = false): void {
    if (busy || finished) return;
    busy = true;
    try {
      // Past the limit the rest waits for the next commit to start.
      while (all || sinceCommit < maxInputs) {
        const next = inbox.shift();
        if (!next) break;
        sinceCommit++;
        act(next());
      }
    } finally {
      busy = false;
    }
    commits.schedule();
    observe();
  }

  function act(actions: readonly EngineAction[]): void {
    for (const a of actions) {
      if (a.type === 'load') void recall(a.taskIds);
      else if (a.type === 'cancel') {
        if (!localLeases.delete(a.leaseId)) taskClient.cancel(a.leaseId);
      } else void assign(a);
    }
  }

  /** Retired tasks the engine weighs again: their results from the store, once every commit is in. */
  async function recall(taskIds: readonly string[]): Promise<void> {
    try {
      await commits.flush();
      const records = await opts.store.getResults(jobId, taskIds);
      input(() => engine.loaded(taskIds, records));
    } catch (err) {
      if (!finished) detach();
      rejectDone(err);
    }
  }

  /** Runs a lease of the local anchor in-process. */
  async function runLocal(a: Extract<EngineAction, { type: 'assign' }>, model: Uint8Array) {
    const anchor = opts.localAnchor!;
    localLeases.add(a.leaseId);
    input(() => engine.acked(a.leaseId));
    try {
      const r = await anchor.executor.run({
        modelHash: a.modelHash,
        model,
        feeds: a.feeds,
        timeoutMs: Math.max(1, Math.round(a.deadline - now())),
        backend: a.backend,
        ...(a.outputs ? { outputs: a.outputs } : {}),
      });
      if (localLeases.delete(a.leaseId)) {
        input(() => engine.reported(a.leaseId, r.outputs, r.computeMs));
      }
    } catch (err) {
      const e = err as Partial<WireError>;
      if (localLeases.delete(a.leaseId)) {
        const error = { code: e.code ?? 'internal', message: e.message ?? String(err) };
        input(() => engine.errored(a.leaseId, error));
      }
    }
  }

  // Feeds the job shares between tasks (`{blob}` feeds more than one task takes: constants,
  // a group's shared feeds) go to donors that speak protocol 3 by hash, fetched once per donor.
  // A blob only one task feeds on (the page stores every literal feed as a blob) stays inline.
  const uses = new Map<string, number>();
  const use = (feeds: Readonly<Record<string, FeedSpec | GroupFeedSpec>>, n: number) => {
    for (const f of Object.values(feeds))
      if ('blob' in f) uses.set(f.blob, (uses.get(f.blob) ?? 0) + n);
  };
  for (const t of spec.tasks) use(t.feeds, 1);
  for (const g of spec.groups ?? []) use(g.feeds, g.count);
  const blobOf = new Map<Tensor, string>(
    Object.entries(spec.blobs ?? {})
      .filter(([h]) => (uses.get(h) ?? 0) > 1)
      .map(([h, t]) => [t, h]),
  );
  const refs = new Map<string, Promise<FeedRef | null>>();
  const refOf = (hash: string, t: Tensor): Promise<FeedRef | null> => {
    let r = refs.get(hash);
    if (!r) {
      const bytes = canonicalBytes(t);
      r = peer.blobs.add(bytes).then(
        (h) => (h === hash ? { hash, bytes: bytes.byteLength } : null),
        () => null,
      );
      refs.set(hash, r);
    }
    return r;
  };
  async function splitFeeds(
    all: TensorMap,
    link: PeerLink,
  ): Promise<{ feeds: TensorMap; feedRefs?: Record<string, FeedRef> }> {
    if (link.remoteProtocol < FEED_REFS_PROTOCOL || blobOf.size === 0) return { feeds: all };
    const feeds: Record<string, Tensor> = {};
    const feedRefs: Record<string, FeedRef> = {};
    for (const [name, t] of Object.entries(all)) {
      const hash = t.data.byteLength >= FEED_REF_MIN_BYTES ? blobOf.get(t) : undefined;
      const ref = hash ? await refOf(hash, t) : null;
      if (ref) feedRefs[name] = ref;
      else feeds[name] = t;
    }
    return Object.keys(feedRefs).length > 0 ? { feeds, feedRefs } : { feeds: all };
  }

  async function assign(a: Extract<EngineAction, { type: 'assign' }>): Promise<void> {
    const fail = (error: WireError) => {
      input(() => engine.errored(a.leaseId, error));
      setAside(a.donor);
    };
    const model = spec.models[a.modelHash];
    if (!model) return fail({ code: 'internal', message: `no model ${a.modelHash}` });
    if (opts.localAnchor && a.donor === peer.selfId) return runLocal(a, model);
    let link: PeerLink;
    try {
      link = peer.pool.get(a.donor) ?? (await peer.pool.connect(a.donor));
    } catch (err) {
      const e = err as Partial<WireError>;
      return fail({
        code: 'connect-failed',
        message: `${a.donor}: ${e.code ?? ''} ${e.message ?? String(err)}`,
      });
    }
    if (finished) return;
    const modelBytes = model.byteLength;
    const { feeds, feedRefs } = await splitFeeds(a.feeds, link);
    if (finished) return;
    leaseDonor.set(a.leaseId, a.donor);
    void taskClient.assign(link, {
      leaseId: a.leaseId,
      jobId,
      modelHash: a.modelHash,
      modelBytes,
      feeds,
      ...(feedRefs ? { feedRefs } : {}),
      deadlineMs: Math.max(1, Math.round(a.deadline - now())),
      backend: a.backend,
      ...(a.outputs ? { outputs: a.outputs } : {}),
    });
  }

  function observe(): void {
    let terminal = false;
    for (const ev of engine.takeEvents()) {
      if (TERMINAL.has(ev.type)) terminal = true;
      if (ev.type === 'lease-verdict') tellVerdict(ev);
      if (opts.onEvent) uncommitted.push(ev);
    }
    const t = now();
    if (t - lastCredits >= CREDIT_EVERY_MS) {
      lastCredits = t;
      sendCredits();
    }
    if (opts.onProgress && (terminal || t - lastProgress >= progressMs)) {
      lastProgress = t;
      opts.onProgress(engine.progress());
    }
    if (terminal) void finish();
  }

  function tick(): void {
    tickTimer = undefined;
    if (finished) return;
    input(() => engine.tick());
    sendCredits();
    roster.refresh(); // windows follow measured round trips and task times
    // Without recorded events (`recordEvents: false`) the end shows in the state only.
    if (!finished && TERMINAL.has(`job-${engine.progress().state}`)) void finish();
    if (!finished) tickTimer = timers.setTimeout(tick, tickMs);
  }

  function detach(): void {
    finished = true;
    sendCredits();
    if (tickTimer !== undefined) timers.clearTimeout(tickTimer);
    roster.close();
    // Withdraw what is still out (late leases): nobody will read it.
    for (const leaseId of [...leaseDonor.keys()]) taskClient.cancel(leaseId);
    localLeases.clear();
  }

  async function finish(): Promise<void> {
    if (finished) return;
    detach();
    try {
      await commits.flush();
      const results = new Map<string, TensorMap>();
      const tasks = createTaskSource(spec);
      for (let i = 0; i < tasks.count; i++) {
        const id = tasks.idAt(i);
        const r = engine.result(id);
        if (r) results.set(id, r);
      }
      const progress = engine.progress();
      resolveDone({ jobId, state: progress.state, progress, results });
    } catch (err) {
      rejectDone(err);
    }
  }

  commits.onError((err) => {
    if (!finished) detach();
    rejectDone(err);
  });

  async function start(): Promise<void> {
    for (const bytes of Object.values(spec.models)) await peer.blobs.add(bytes);
    if (finished) return;
    roster.start();
    const anchor = opts.localAnchor;
    if (anchor) {
      const slots = Math.max(1, anchor.concurrency ?? anchor.executor.concurrency);
      input(() =>
        engine.donorAvailable({
          id: peer.selfId,
          anchor: true,
          backend: anchor.backend,
          capabilities: {
            runtime: 'node',
            backends: [anchor.backend],
            cores: slots,
            memoryMB: 0,
            maxConcurrency: slots,
          },
        }),
      );
    }
    if (TERMINAL.has(`job-${engine.state()}`)) {
      void finish(); // restored from the store already finished
      return;
    }
    input(() => []);
    tick();
  }
  start().catch((err: unknown) => {
    detach();
    rejectDone(err);
  });

  return {
    jobId,
    done,
    progress: () => engine.progress(),
    cancel() {
      input(() => engine.cancel());
      return done;
    },
    async stop() {
      if (finished) return;
      drain(true); // reports waiting under backpressure are finished work: into the engine first
      detach();
      await commits.flush();
    },
  };
}

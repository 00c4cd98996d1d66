/**
 * The job engine's internals: task and job state, verification outcomes
 * (accept, evaluate, reopen) and the wiring of the parts, each in its own
 * file: lease cancelling, readiness, failure and invalidation in
 * `engine-tasks.ts`; parked disputes and starved tasks in `engine-parked.ts`;
 * exclusions and reinstatement in `engine-exclusions.ts`; placement in
 * `engine-place.ts`; start and restore in `engine-start.ts`; outward views in
 * `engine-records.ts`; run-time types in `engine-types.ts`. `engine.ts` is the API.
 */
import type { PeerId } from '../contracts.ts';
import { outputsMatch } from './compare.ts';
import type { JobEngineOptions } from './engine.ts';
import { createExclusions } from './engine-exclusions.ts';
import { createParked } from './engine-parked.ts';
import { createPlacer } from './engine-place.ts';
import { createRecords } from './engine-records.ts';
import { startEngine } from './engine-start.ts';
import { createTaskMoves } from './engine-tasks.ts';
import type { EngineState, TaskRt, VoteRt } from './engine-types.ts';
import { type Policy, resolvePolicy } from './spec.ts';
import { type JobState, type TaskState, transition } from './state.ts';
import { createTaskGraph } from './task-graph.ts';
import type { DonorInfo, EngineAction, JobEvent, JobEventType } from './types.ts';
import { decide } from './verify.ts';

export type { TaskRt } from './engine-types.ts';

/** Unread events `takeEvents` keeps. */
const EVENT_BACKLOG = 10_000;

export function createEngineCore(o: JobEngineOptions) {
  const policy: Policy = resolvePolicy(o.spec.policy);
  const book = o.reputation;
  const jobId = o.jobId;
  const record = o.recordEvents ?? true;
  const maxPerDonor = o.maxInFlightPerDonor ?? 4;
  const actions: EngineAction[] = [];
  const graph = createTaskGraph(o.spec);
  const tasks: TaskRt[] = graph.tasks;
  const st: EngineState = {
    state: 'pending',
    seq: 0,
    byId: graph.byId,
    donors: new Map(),
    leases: new Map(),
    events: [],
    deltaEvents: [],
    resultsReceived: 0,
    leaseCounter: 0,
    spot: { issued: 0, passed: 0, failed: 0 },
    disputes: 0,
    reopened: 0,
    soloAccepted: 0,
    settled: 0,
    counts: { blocked: 0, ready: 0, running: 0, verified: 0, failed: 0 },
    failed: [],
  };
  const urgent: TaskRt[] = [];
  const fresh: TaskRt[] = [];
  const firmPool: TaskRt[] = [];
  const weakPool: TaskRt[] = [];
  const dirtyTasks = new Set<TaskRt>();
  const dirtyResults = new Set<TaskRt>();
  const removed = new Set<string>();

  const event = (type: JobEventType, e: Omit<JobEvent, 'jobId' | 'seq' | 'at' | 'type'> = {}) => {
    st.seq++;
    if (!record) return;
    const ev: JobEvent = { jobId, seq: st.seq, at: o.now(), type, ...e };
    st.events.push(ev);
    st.deltaEvents.push(ev);
    // `takeEvents` is a live view: unread entries beyond the backlog are dropped
    // (the store's copy goes through `takeDelta`, which drops nothing).
    if (st.events.length > EVENT_BACKLOG) st.events.splice(0, st.events.length - EVENT_BACKLOG);
  };
  const dirty = (t: TaskRt) => dirtyTasks.add(t);
  const setTask = (t: TaskRt, to: TaskState) => {
    st.counts[t.state]--;
    t.state = transition('task', t.state, to);
    st.counts[to]++;
    dirty(t);
  };
  const setJobState = (to: JobState) => {
    const from = st.state;
    st.state = transition('job', from, to);
    const type = {
      running: 'job-started',
      completed: 'job-completed',
      failed: 'job-failed',
    } as const;
    if (to === 'cancelled') event('job-cancelled');
    else if (to !== 'pending') event(from === 'completed' ? 'job-reopened' : type[to]);
  };
  const enqueue = (t: TaskRt, isUrgent: boolean) => {
    if (t.queued) return;
    t.queued = true;
    (isUrgent ? urgent : fresh).push(t);
  };
  const validVotes = (t: TaskRt) => t.results.filter((r) => !book.isExcluded(r.donor));
  /** Replicas still to place; none while an input is being re-verified. */
  const need = (t: TaskRt) => {
    if (t.state !== 'ready' && t.state !== 'running') return 0;
    for (const d of t.deps) if (d.state !== 'verified') return 0;
    let valid = 0;
    for (const r of t.results) if (!book.isExcluded(r.donor)) valid++;
    return t.target - valid - t.inFlight;
  };
  const moves = createTaskMoves({ graph, policy, st, actions, event, setTask, enqueue, removed });
  const { cancelLease, cancelLeases, makeReady, failTask, invalidate } = moves;

  const accept = (t: TaskRt, winners: VoteRt[], losers: VoteRt[], firm: boolean, note?: string) => {
    const prev = t.accepted;
    const first = winners[0]!;
    t.accepted = {
      jobId,
      taskId: t.spec.id,
      outputs: first.outputs,
      backers: winners.map((w) => w.donor),
      firm,
      backend: first.backend,
      acceptedAt: o.now(),
    };
    if (winners.length === 1) st.soloAccepted++;
    for (const w of winners) {
      if (w.credited) continue;
      w.credited = true;
      book.agreed(w.donor, { spot: w.spot });
      book.credit(w.donor, w.computeMs);
    }
    for (const l of losers) {
      const outlier = book.disagreed(l.donor);
      if (firm) excludeOver(l.donor, t, `outvoted by a verified result of task ${t.spec.id}`);
      else if (outlier) {
        excludeOver(l.donor, t, `outvoted repeatedly with no agreement, last on task ${t.spec.id}`);
      }
    }
    cancelLeases(t, 'task verified', false);
    setTask(t, 'verified');
    dirtyResults.add(t);
    removed.delete(t.spec.id);
    (firm ? firmPool : weakPool).push(t);
    const backers = `${winners.length} backer(s)`;
    event('task-verified', { taskId: t.spec.id, message: note ? `${backers}, ${note}` : backers });
    t.escalated = false;
    if (prev && !outputsMatch(prev.outputs, first.outputs, policy.compare)) {
      // The old answer was wrong: whoever was excluded for contradicting it told the truth.
      reinstate(t, first.outputs);
      for (const d of t.dependents) invalidate(d);
    } else {
      for (const d of t.dependents) {
        if (d.state === 'blocked' && d.deps.every((x) => x.state === 'verified')) makeReady(d);
        // Dependents held back while this input was re-verified may go on.
        else if (d.state === 'running' || d.state === 'ready') enqueue(d, true);
      }
    }
  };

  const parked = createParked({ o, policy, book, st, validVotes, enqueue, failTask, accept });

  const evaluate = (t: TaskRt) => {
    const votes = validVotes(t);
    const d = decide(votes, {
      rule: policy.compare,
      quorum: policy.quorum,
      maxReplicas: policy.maxReplicas,
      trusted: (p) => book.isTrusted(p),
      solo: t.solo,
    });
    if (d.kind === 'accept') {
      accept(
        t,
        d.winners.map((i) => votes[i]!),
        d.losers.map((i) => votes[i]!),
        d.firm,
      );
    } else if (d.kind === 'fail') {
      // Without a trusted voter the dispute may only reflect an unlucky draw of
      // liars (warm-up): park it until a trusted donor can break the tie.
      // A trusted voter that sides with no one else ends it (escalation comes to that).
      if (votes.some((v) => book.isTrusted(v.donor))) failTask(t, d.reason);
      else parked.park(t, d.reason);
    } else {
      if (!t.preferTrusted && votes.length > 1) {
        st.disputes++;
        event('task-disputed', { taskId: t.spec.id });
      }
      if (votes.length > 0) t.preferTrusted = t.preferTrusted || votes.length > 1;
      t.target = d.target;
      if (need(t) > 0) enqueue(t, true);
    }
  };

  const reopen = (t: TaskRt, reason: string) => {
    if (t.state !== 'verified' || st.state === 'failed' || st.state === 'cancelled') return;
    st.reopened++;
    setTask(t, 'running');
    t.solo = false;
    t.preferTrusted = true;
    event('task-reopened', { taskId: t.spec.id, message: reason });
    if (st.state === 'completed') setJobState('running');
    evaluate(t);
  };

  const exclusions = createExclusions({
    policy,
    book,
    st,
    tasks,
    event,
    need,
    enqueue,
    cancelLease,
    evaluate,
    reopen,
  });
  const { excludeOver, reinstate, drainExclusions, indexVote } = exclusions;

  const placer = createPlacer({
    o,
    policy,
    book,
    st,
    actions,
    event,
    need,
    setTask,
    urgent,
    fresh,
    firmPool,
    weakPool,
    settleStarved: parked.settleStarved,
  });
  const schedule = placer.schedule;

  const checkDone = () => {
    if (st.state !== 'running') return;
    if (st.counts.verified + st.counts.failed < tasks.length) return;
    setJobState(st.counts.failed > 0 ? 'failed' : 'completed');
  };

  // Start, or resume from a snapshot (in-flight leases are not restored: they are re-issued).
  startEngine({ o, st, tasks, graph, setJobState, makeReady, firmPool, weakPool });

  const records = createRecords({ o, jobId, book, st, tasks, dirtyTasks, dirtyResults, removed });

  return {
    st,
    book,
    policy,
    actions,
    event,
    dirty,
    enqueue,
    evaluate,
    reopen,
    failTask,
    schedule,
    checkDone,
    setJobState,
    drainExclusions,
    hasPendingExclusions: exclusions.hasPendingExclusions,
    excludeOver,
    tickParked: parked.tickParked,
    indexVote,
    addBacker(t: TaskRt, donor: PeerId) {
      const a = t.accepted!;
      const backers = [...a.backers, donor];
      const firm = a.firm || backers.some((b) => book.isTrusted(b));
      t.accepted = { ...a, backers, firm };
      if (firm && !a.firm) firmPool.push(t);
      dirtyResults.add(t);
    },
    upsertDonor(info: DonorInfo) {
      const prev = st.donors.get(info.id);
      const slots = Math.max(1, Math.min(info.capabilities.maxConcurrency, maxPerDonor));
      if (info.capabilities.maxConcurrency <= 0) return void st.donors.delete(info.id);
      st.donors.set(info.id, {
        id: info.id,
        backend: info.backend ?? info.capabilities.backends[0] ?? 'wasm',
        slots,
        inFlight: prev?.inFlight ?? 0,
        reported: prev?.reported ?? 0,
        get trusted() {
          return book.isTrusted(info.id);
        },
      });
    },
    ...records,
    close: exclusions.close,
  };
}

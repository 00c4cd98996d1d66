/**
 * The job engine's internals: task life cycle, verification outcomes,
 * re-verification on exclusion, parked disputes and restore. Placement is in
 * `engine-place.ts`, outward views in `engine-records.ts`; `engine.ts` is the API.
 */
import type { PeerId } from '../contracts.ts';
import { outputsMatch } from './compare.ts';
import type { JobEngineOptions } from './engine.ts';
import { createPlacer } from './engine-place.ts';
import { createRecords } from './engine-records.ts';
import type { EngineState, LeaseRt, TaskRt, VoteRt } from './engine-types.ts';
import { type Policy, resolvePolicy } from './spec.ts';
import { type JobState, type TaskState, transition } from './state.ts';
import { createTaskGraph } from './task-graph.ts';
import type { DonorInfo, EngineAction, JobEvent, JobEventType } from './types.ts';
import { decide, groupVotes } from './verify.ts';

export type { TaskRt } from './engine-types.ts';

/** A parked dispute fails after this many task deadlines without a trusted donor. */
const PARK_LIMIT = 3;
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
  const votesBy = new Map<PeerId, Set<TaskRt>>();
  const dirtyTasks = new Set<TaskRt>();
  const dirtyResults = new Set<TaskRt>();
  const removed = new Set<string>();
  const pendingExclusions: PeerId[] = [];
  const parked = new Map<TaskRt, { since: number; reason: string }>();
  /** Donors this engine excluded, by the task whose answer they contradicted. */
  const excludedOver = new Map<PeerId, TaskRt>();
  const excludeOver = (peer: PeerId, t: TaskRt, reason: string) => {
    if (!book.isExcluded(peer)) excludedOver.set(peer, t);
    book.exclude(peer, reason);
  };

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

  const cancelLease = (lease: LeaseRt, reason: string) => {
    const t = lease.task;
    st.leases.delete(lease.id);
    t.leases.delete(lease);
    const d = st.donors.get(lease.donor);
    if (d) d.inFlight--;
    if (!lease.spot) t.inFlight--;
    t.used.delete(lease.donor);
    lease.state = transition('replica', lease.state, 'cancelled');
    event('lease-cancelled', {
      taskId: t.spec.id,
      leaseId: lease.id,
      donor: lease.donor,
      message: reason,
    });
    actions.push({ type: 'cancel', leaseId: lease.id, donor: lease.donor, reason });
  };
  const cancelLeases = (t: TaskRt, reason: string, spotsToo: boolean) => {
    for (const lease of [...t.leases]) if (spotsToo || !lease.spot) cancelLease(lease, reason);
  };

  const makeReady = (t: TaskRt) => {
    const feeds = graph.resolveFeeds(t);
    if (typeof feeds === 'string') return failTask(t, feeds);
    t.feeds = feeds;
    t.target = policy.replicas;
    t.solo = false;
    t.preferTrusted = false;
    setTask(t, 'ready');
    event('task-ready', { taskId: t.spec.id });
    enqueue(t, false);
  };

  const failTask = (t: TaskRt, reason: string) => {
    if (t.state === 'failed') return;
    cancelLeases(t, 'task failed', true);
    setTask(t, 'failed');
    t.failReason = reason;
    st.failed.push({ taskId: t.spec.id, reason });
    event('task-failed', { taskId: t.spec.id, message: reason });
    for (const d of t.dependents) failTask(d, `input task ${t.spec.id} failed`);
  };

  /** An input changed: the task and everything downstream start over. */
  const invalidate = (t: TaskRt) => {
    if (t.state === 'failed' || t.state === 'blocked') return;
    cancelLeases(t, 'input changed', true);
    if (t.accepted) removed.add(t.spec.id);
    t.results = [];
    t.used = new Set();
    t.accepted = undefined;
    setTask(t, 'blocked');
    for (const d of t.dependents) invalidate(d);
    if (t.deps.every((d) => d.state === 'verified')) makeReady(t);
  };

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
      for (const r of t.results) {
        if (
          excludedOver.get(r.donor) !== t ||
          !outputsMatch(r.outputs, first.outputs, policy.compare)
        )
          continue;
        excludedOver.delete(r.donor);
        book.reinstate(r.donor);
        event('donor-reinstated', { taskId: t.spec.id, donor: r.donor });
      }
      for (const d of t.dependents) invalidate(d);
    } else {
      for (const d of t.dependents) {
        if (d.state === 'blocked' && d.deps.every((x) => x.state === 'verified')) makeReady(d);
        // Dependents held back while this input was re-verified may go on.
        else if (d.state === 'running' || d.state === 'ready') enqueue(d, true);
      }
    }
  };

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
      else if (!parked.has(t)) parked.set(t, { since: o.now(), reason: d.reason });
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

  /** Parked disputes: escalate to one trusted donor, or fail after `PARK_LIMIT` deadlines. */
  const tickParked = () => {
    for (const [t, p] of parked) {
      if (t.state !== 'running') {
        parked.delete(t);
        continue;
      }
      const trusted = [...st.donors.values()].some(
        (d) => !t.used.has(d.id) && book.isTrusted(d.id) && (!t.backend || d.backend === t.backend),
      );
      if (trusted) {
        parked.delete(t);
        t.escalated = true;
        t.preferTrusted = true;
        t.target = validVotes(t).length + 1;
        enqueue(t, true);
      } else if (o.now() - p.since > PARK_LIMIT * policy.taskDeadlineMs) {
        parked.delete(t);
        failTask(t, `${p.reason}; no trusted donor to break the tie`);
      }
    }
  };

  /** Could another donor on offer add a replica of `t` (capacity aside)? */
  const canGrow = (t: TaskRt) => {
    const strict = policy.compare.kind === 'exact' && t.backend !== undefined;
    for (const d of st.donors.values()) {
      if (t.used.has(d.id) || book.isExcluded(d.id)) continue;
      if (!strict || d.backend === t.backend) return true;
    }
    return false;
  };

  /**
   * A dispute that no donor on offer can add to (small grids): a group that
   * reaches quorum and holds a strict majority of the distinct donors' votes
   * is accepted (not firm); the losers' lost votes count towards exclusion.
   * True when the task was settled.
   */
  const settleStarved = (t: TaskRt): boolean => {
    if (t.state !== 'running' || t.inFlight > 0 || t.escalated || canGrow(t)) return false;
    const votes = validVotes(t);
    const groups = groupVotes(votes, policy.compare).sort((a, b) => b.length - a.length);
    const top = groups[0];
    if (!top || top.length < policy.quorum || top.length * 2 <= votes.length) return false;
    st.settled++;
    accept(
      t,
      top.map((i) => votes[i]!),
      groups.slice(1).flatMap((g) => g.map((i) => votes[i]!)),
      false,
      `majority of ${votes.length} distinct donors, no other donor on offer`,
    );
    return true;
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

  const drainExclusions = () => {
    for (let p = pendingExclusions.shift(); p !== undefined; p = pendingExclusions.shift()) {
      event('donor-excluded', { donor: p, message: book.get(p).excludedReason ?? '' });
      for (const lease of [...st.leases.values()]) {
        if (lease.donor === p) cancelLease(lease, 'donor excluded');
      }
      for (const t of votesBy.get(p) ?? []) {
        if (t.state === 'running') evaluate(t);
        else if (t.state === 'verified' && t.accepted?.backers.includes(p)) {
          const vouched = t.accepted.backers.some(
            (b) => b !== p && !book.isExcluded(b) && book.isTrusted(b),
          );
          if (!vouched) reopen(t, `backer ${p} was excluded`);
        }
      }
      // Cancelling may have freed tasks of other donors.
      for (const t of tasks) if (t.state === 'running' && need(t) > 0) enqueue(t, true);
    }
  };
  const unsubscribe = book.onExcluded((p) => pendingExclusions.push(p));

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
    settleStarved,
  });
  const schedule = placer.schedule;

  const checkDone = () => {
    if (st.state !== 'running') return;
    if (st.counts.verified + st.counts.failed < tasks.length) return;
    setJobState(st.counts.failed > 0 ? 'failed' : 'completed');
  };

  // Start, or resume from a snapshot (in-flight leases are not restored: they are re-issued).
  if (o.restore) {
    const accepted = new Map(o.restore.results.map((r) => [r.taskId, r]));
    for (const r of o.restore.tasks) {
      const t = st.byId.get(r.taskId);
      if (!t) continue;
      t.attempts = r.attempts;
      const res = accepted.get(r.taskId);
      if (r.state === 'verified' && res) {
        t.state = 'verified';
        t.accepted = res;
      } else if (r.state === 'failed') {
        t.state = 'failed';
        t.failReason = r.failReason ?? 'failed';
        st.failed.push({ taskId: t.spec.id, reason: t.failReason });
      }
    }
  }
  for (const t of tasks) {
    st.counts[t.state]++;
    const feeds = t.state === 'verified' ? graph.resolveFeeds(t) : undefined;
    if (typeof feeds === 'object') t.feeds = feeds; // needed to re-run it as a known-answer check
  }
  st.seq = Math.max(st.seq, o.restore?.job.seq ?? 0);
  const restoredState = o.restore?.job.state;
  if (restoredState && restoredState !== 'pending' && restoredState !== 'running') {
    st.state = restoredState;
  } else {
    setJobState('running');
    for (const t of tasks) {
      if (t.state === 'verified' && t.accepted) (t.accepted.firm ? firmPool : weakPool).push(t);
      if (t.state === 'blocked' && t.deps.every((d) => d.state === 'verified')) makeReady(t);
    }
  }

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
    hasPendingExclusions: () => pendingExclusions.length > 0,
    excludeOver,
    tickParked,
    indexVote(t: TaskRt, donor: PeerId) {
      const s = votesBy.get(donor) ?? new Set<TaskRt>();
      votesBy.set(donor, s);
      s.add(t);
    },
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
    close: () => unsubscribe(),
  };
}

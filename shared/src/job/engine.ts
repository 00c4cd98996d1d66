/**
 * The job engine: one job's scheduling, leases and verification, driven by
 * the submitter runtime (Node CLI, web page) and by the simulator alike.
 * Event-driven and pure: every input returns the actions to carry out; time
 * is read from the injected `now`, randomness from the injected `random`.
 *
 * Its parts, each the one owner of its concept: the lease ledger
 * (lease-ledger.ts), the tasks' state machine (task-machine.ts),
 * verification and credibility (verification.ts, verify.ts,
 * credibility.ts), placement with its audits and solo runs (placement.ts),
 * parked disputes (disputes.ts), exclusions and backtracking
 * (exclusions.ts), the event log (event-log.ts) and the records views fold
 * from it (job-records.ts).
 */
import type { PeerId } from '../contracts.ts';
import { PeerGridError } from '../errors.ts';
import { soloChance } from './credibility.ts';
import { createDisputes } from './disputes.ts';
import type { JobEngine, JobEngineOptions } from './engine-api.ts';
import { createEventLog } from './event-log.ts';
import { createExclusions } from './exclusions.ts';
import { isHandback } from './handback.ts';
import { createJobRecords } from './job-records.ts';
import { createLeaseLedger } from './lease-ledger.ts';
import { createPlacement } from './placement.ts';
import type { DonorRt, ResultRt, TaskRt } from './runtime.ts';
import { resolvePolicy, validateJob } from './spec.ts';
import { createSpeedBook } from './speed-book.ts';
import { type JobState, transition } from './state.ts';
import { createTaskGraph } from './task-graph.ts';
import { createTaskMachine } from './task-machine.ts';
import type { EngineAction, ResultRecord } from './types.ts';
import { CREDIBLE_AFTER, createVerification } from './verification.ts';

export type { JobEngine, JobEngineOptions } from './engine-api.ts';

/** Donor departures a task absorbs per attempt of `maxAttempts` before it fails. */
export const DEPARTURES_PER_ATTEMPT = 4;

/** Verified group tasks an engine keeps in memory by default (see `residentVerified`). */
export const DEFAULT_RESIDENT_VERIFIED = 10_000;
/** Bytes of verified group tasks' results an engine keeps in memory by default (see `residentResultBytes`). */
export const DEFAULT_RESIDENT_RESULT_BYTES = 256 * 1024 * 1024;

/** Bytes of a task's accepted outputs. */
const resultBytes = (t: TaskRt): number => {
  let n = 0;
  for (const o of Object.values(t.accepted?.outputs ?? {})) n += o.data.byteLength;
  return n;
};

/** Throws `invalid-job` (with every `validateJob` error in the message) for a spec that does not validate. */
export function createJobEngine(options: JobEngineOptions): JobEngine {
  const errors = validateJob(options.spec);
  if (errors.length > 0) {
    throw new PeerGridError('invalid-job', errors.map((e) => `${e.code}: ${e.message}`).join('; '));
  }
  const { jobId, now, random } = options;
  const policy = resolvePolicy(options.spec.policy);
  const book = options.reputation;
  const maxPerDonor = options.maxInFlightPerDonor ?? 4;
  const residentVerified = Math.max(0, options.residentVerified ?? DEFAULT_RESIDENT_VERIFIED);
  const residentBytes = Math.max(0, options.residentResultBytes ?? DEFAULT_RESIDENT_RESULT_BYTES);
  const actions: EngineAction[] = [];
  const donors = new Map<PeerId, DonorRt>();
  const graph = createTaskGraph(options.spec);
  const log = createEventLog({ jobId, now, record: options.recordEvents ?? true });
  let jobState: JobState = 'pending';
  const setJobState = (to: JobState) => {
    const from = jobState;
    jobState = transition('job', from, to);
    const type = {
      running: 'job-started',
      completed: 'job-completed',
      failed: 'job-failed',
    } as const;
    if (to === 'cancelled') log.emit('job-cancelled');
    else if (to !== 'pending') log.emit(from === 'completed' ? 'job-reopened' : type[to]);
  };

  /** Donors trusted by key, and every donor that joined as an anchor (its results stay anchored). */
  const anchorIds = new Set(policy.trustedDonors);
  const isAnchor = (d: PeerId) => anchorIds.has(d);
  const ledger = createLeaseLedger({ now, random, policy, donors, log, actions });
  const speeds = options.speeds ?? createSpeedBook();
  const placement = createPlacement({
    random,
    policy,
    book,
    donors,
    ledger,
    speeds,
    now,
    tasks: () => machine,
    soloChance: (d) => (d.anchor ? 0 : soloChance(book.audited(d.id), policy)),
    running: () => jobState === 'running',
    settleStarved: (t) => {
      if (t.inFlight > 0 || placement.canGrow(t)) return false;
      verification.starved(t);
      return true;
    },
    more: () => {
      for (let t = graph.nextFresh(); t; t = graph.nextFresh()) if (machine.arm(t)) return t;
      return undefined;
    },
  });
  const { enqueue, need } = placement;
  const machine = createTaskMachine({
    policy,
    log,
    ledger,
    resolveFeeds: graph.resolveFeeds,
    enqueue,
  });
  const verification = createVerification({
    jobId,
    now,
    policy,
    book,
    log,
    ledger,
    tasks: machine,
    isAnchor,
    enqueue,
    need,
    park: (t, reason) => disputes.park(t, reason),
    canGrow: placement.canGrow,
    exclude: (p, t, reason) => exclusions.exclude(p, t, reason),
    lostVote: (p) => exclusions.lostVote(p),
    reinstate: (t, outputs) => exclusions.reinstate(t, outputs),
    reopened: () => {
      if (jobState === 'completed') setJobState('running');
    },
    live: () => jobState !== 'failed' && jobState !== 'cancelled',
  });
  const disputes = createDisputes({
    now,
    policy,
    book,
    validResults: verification.validResults,
    canGrow: placement.canGrow,
    anchorFor: placement.anchorFor,
    enqueue,
    settle: verification.settle,
    fail: machine.fail,
  });
  const exclusions = createExclusions({
    policy,
    book,
    log,
    ledger,
    need,
    enqueue,
    evaluate: verification.evaluate,
    recheck: verification.recheck,
    resident: graph.resident,
    recall: (index, reason) => {
      const id = graph.source.idAt(index);
      const t = graph.get(id);
      if (t) {
        if (t.state === 'verified') verification.recheck(t, reason);
      } else if (graph.isRetired(id) && !recalls.has(id)) {
        recalls.set(id, reason);
        toLoad.push(id);
      }
    },
  });
  /** Retired tasks asked back from the store, with why; the job cannot complete meanwhile. */
  const recalls = new Map<string, string>();
  const toLoad: string[] = [];
  /** Verified group tasks in the order they were accepted: the oldest final ones retire first. */
  let retireQueue: TaskRt[] = [];
  /** Bytes of each queued task's result when it was queued, and their sum. */
  let retireSizes: number[] = [];
  let queuedBytes = 0;
  const queueRetire = (t: TaskRt) => {
    const b = resultBytes(t);
    retireQueue.push(t);
    retireSizes.push(b);
    queuedBytes += b;
  };
  let retiredCount = 0;
  const retirable = (t: TaskRt) =>
    graph.get(t.spec.id) === t &&
    t.state === 'verified' &&
    t.inFlight === 0 &&
    t.dependents.length === 0 &&
    t.index >= graph.source.explicit &&
    !recalls.has(t.spec.id) &&
    !exclusions.pins(t);
  /**
   * Retires the oldest verified tasks past the resident budget, in tasks
   * (`residentVerified`) or in result bytes (`residentResultBytes`); their
   * results are in the delta just taken.
   */
  const retire = () => {
    let look = retireQueue.length - residentVerified;
    let head = 0;
    // Each queued task is looked at once per call (a re-queued one waits for the next).
    const end = retireQueue.length;
    for (; (look > 0 || queuedBytes > residentBytes) && head < end; look--) {
      queuedBytes -= retireSizes[head]!;
      const t = retireQueue[head++]!;
      if (!retirable(t)) continue;
      if (!t.final) {
        queueRetire(t); // not yet final: it may be weighed again while resident
        continue;
      }
      exclusions.retired(t);
      graph.retire(t);
      // Queues elsewhere may still hold the node for a while (placement compacts its
      // queue of placed tasks only past 4,096): its tensors go now, not with the node.
      t.results = [];
      t.accepted = undefined;
      t.feeds = undefined;
      retiredCount++;
    }
    if (head > 0) {
      retireQueue = retireQueue.slice(head);
      retireSizes = retireSizes.slice(head);
    }
  };
  const records = createJobRecords({
    jobId,
    now,
    policy,
    log,
    ledger,
    count: graph.count,
    resident: graph.resident,
    retired: () => retiredCount,
    machine,
    donors,
    jobState: () => jobState,
    donorStats: (d) => ({
      trusted: !d.anchor && soloChance(book.audited(d.id), policy) > 0,
      excluded: book.isExcluded(d.id),
      audited: book.audited(d.id),
      creditMs: book.get(d.id).creditMs,
    }),
    anchors: () => [...donors.values()].filter((d) => d.anchor).map((d) => d.id),
    unfinal: () => verification.unfinal().length,
    achievedError: () => verification.achievedError(),
    excluded: () => exclusions.excluded,
    takeChangedResults: verification.takeChanged,
  });

  const collect = (): EngineAction[] => {
    // Settling a starved dispute during placement may exclude a donor.
    do {
      exclusions.drain();
      placement.schedule();
    } while (exclusions.pending());
    if (toLoad.length > 0) actions.push({ type: 'load', taskIds: toLoad.splice(0) });
    const out = actions.splice(0);
    // Complete only when every result meets its bound (and none is out being weighed again).
    if (
      jobState === 'running' &&
      machine.counts.verified + machine.counts.failed >= graph.count &&
      recalls.size === 0 &&
      verification.unfinal().length === 0
    ) {
      setJobState(machine.counts.failed > 0 ? 'failed' : 'completed');
    }
    return out;
  };

  /**
   * A lease ended without a result. A donor that left (closed tab, dropped
   * link) says nothing about the task, so such losses count against a budget
   * `DEPARTURES_PER_ATTEMPT` times larger than `maxAttempts`: churn alone must
   * not fail a task, while a task that kills every donor it touches still ends.
   */
  const lost = (
    leaseId: string,
    to: 'expired' | 'errored',
    reason: string,
    notify: boolean,
    departed = false,
  ) => {
    const lease = ledger.end(leaseId, to, reason, notify);
    if (!lease) return;
    const task = lease.task;
    if (task.state !== 'running') return;
    if (departed) task.departures++;
    else task.attempts++;
    machine.touch(task);
    if (task.attempts >= policy.maxAttempts) {
      machine.fail(task, `${task.attempts} attempts ended without a result; last: ${reason}`);
    } else if (task.departures >= policy.maxAttempts * DEPARTURES_PER_ATTEMPT) {
      machine.fail(task, `${task.departures} donors left while running it; last: ${reason}`);
    } else enqueue(task, true);
  };

  const onResult = (task: TaskRt, r: ResultRt) => {
    if (book.isExcluded(r.donor)) return verification.reject(task, r);
    if (task.state === 'running') return verification.evaluate(task);
    // Failed or invalidated meanwhile: nothing to weigh it against.
    if (task.state === 'verified' && task.accepted) verification.lateResult(task, r);
  };

  start();

  function start(): void {
    const restore = options.restore;
    let retiredApart = 0;
    if (restore) {
      const accepted = new Map(restore.results.map((r) => [r.taskId, r]));
      for (const r of restore.tasks) {
        const res = accepted.get(r.taskId);
        if (
          !graph.get(r.taskId) &&
          r.state === 'verified' &&
          res &&
          res.bound <= policy.targetError &&
          graph.retireId(r.taskId)
        ) {
          // Final and nobody's input: it stays in the store, as if retired.
          exclusions.retiredApart(graph.source.indexOf(r.taskId), res.backers);
          verification.restoredApart(res.bound);
          retiredApart++;
          continue;
        }
        const t = graph.get(r.taskId) ?? graph.adopt(r.taskId);
        if (!t) continue;
        t.attempts = r.attempts;
        if (r.state === 'verified' && res) {
          t.state = 'verified';
          t.accepted = res;
        } else if (r.state === 'failed') {
          t.state = 'failed';
          t.failReason = r.failReason ?? 'failed';
        }
      }
    }
    for (const t of graph.resident()) {
      machine.restored(t);
      if (t.state !== 'verified') continue;
      verification.restored(t);
      const feeds = graph.resolveFeeds(t);
      if (typeof feeds === 'object') t.feeds = feeds; // needed to verify it again
      for (const b of t.accepted?.backers ?? []) exclusions.indexResult(t, b);
      if (t.index >= graph.source.explicit) queueRetire(t);
    }
    retiredCount = retiredApart;
    machine.countApart('verified', retiredApart);
    machine.countApart('ready', graph.untouched());
    log.resumeAt(restore?.job.seq ?? 0);
    const restoredState = restore?.job.state;
    if (restoredState && restoredState !== 'pending' && restoredState !== 'running') {
      jobState = restoredState; // a job that had ended stays ended
      return;
    }
    setJobState('running');
    for (const t of [...graph.resident()]) {
      if (t.state === 'blocked' && t.deps.every((d) => d.state === 'verified'))
        machine.makeReady(t);
      else if (t.state === 'ready' && machine.arm(t)) enqueue(t, false);
    }
  }

  /** A retired task back from the store, weighed again for the reason it was recalled. */
  const reload = (id: string, reason: string, record: ResultRecord | undefined) => {
    const t = graph.adopt(id);
    if (!t) return;
    retiredCount--;
    t.state = 'verified'; // counted verified all along
    if (!record) {
      // The store lost it: compute it again.
      machine.invalidate(t);
      return;
    }
    t.accepted = record;
    const feeds = graph.resolveFeeds(t);
    if (typeof feeds === 'object') t.feeds = feeds;
    // Its results as they stood: its backers', each the accepted outputs
    // (outvoted results left with it: they had no say in a final result).
    t.solo = record.backers.length < policy.quorum;
    for (const donor of record.backers) {
      t.results.push({
        leaseId: '',
        donor,
        outputs: record.outputs,
        backend: record.backend,
        computeMs: 0,
        audit: false,
        credited: true,
        told: true,
      });
      t.used.add(donor);
      exclusions.indexResult(t, donor);
    }
    verification.restored(t);
    queueRetire(t);
    verification.recheck(t, reason);
  };

  return {
    jobId,
    donorAvailable(info) {
      const prev = donors.get(info.id);
      if (info.anchor === true) anchorIds.add(info.id);
      if (info.capabilities.maxConcurrency <= 0) donors.delete(info.id);
      else {
        const backend = info.backend ?? info.capabilities.backends[0] ?? 'wasm';
        const slots = Math.max(1, Math.min(info.capabilities.maxConcurrency, maxPerDonor));
        speeds.advertise(info.id, info.capabilities.speed?.[backend]);
        donors.set(info.id, {
          id: info.id,
          backend,
          slots,
          runs: Math.max(1, Math.min(slots, info.runs ?? slots)),
          inFlight: prev?.inFlight ?? 0,
          ...(prev?.lastReportAt !== undefined ? { lastReportAt: prev.lastReportAt } : {}),
          reported: prev?.reported ?? 0,
          anchor: anchorIds.has(info.id),
          get credible() {
            return this.anchor || book.audited(info.id) >= CREDIBLE_AFTER;
          },
        });
      }
      disputes.tick(); // a parked task may grow on the new donor
      return collect();
    },
    donorGone(id) {
      for (const lease of ledger.all()) {
        if (lease.donor === id) lost(lease.id, 'expired', 'donor gone', false, true);
      }
      donors.delete(id);
      return collect();
    },
    acked(leaseId) {
      ledger.acked(leaseId);
      return collect();
    },
    reported(leaseId, outputs, computeMs) {
      const lease = ledger.reported(leaseId);
      if (!lease) return collect(); // late or unknown: ignored
      const donor = donors.get(lease.donor);
      const task = lease.task;
      if (donor) {
        donor.reported++;
        // Out since its previous result, with work for every run: the gap is its service time.
        const at = now();
        const was = donor.lastReportAt;
        const busy = was !== undefined && lease.issuedAt <= was && donor.inFlight + 1 >= donor.runs;
        speeds.observe(
          lease.donor,
          task.spec.model,
          computeMs,
          busy ? (at - was) * donor.runs : undefined,
        );
        donor.lastReportAt = at;
      } else speeds.observe(lease.donor, task.spec.model, computeMs);
      const r: ResultRt = {
        leaseId,
        donor: lease.donor,
        outputs,
        backend: lease.backend,
        computeMs,
        audit: lease.audit,
        credited: false,
        told: false,
      };
      task.results.push(r);
      exclusions.indexResult(task, lease.donor);
      onResult(task, r);
      exclusions.drain();
      return collect();
    },
    loaded(taskIds, records) {
      const byId = new Map(records.map((r) => [r.taskId, r]));
      for (const id of taskIds) {
        const reason = recalls.get(id);
        if (reason === undefined) continue;
        recalls.delete(id);
        reload(id, reason, byId.get(id));
      }
      exclusions.drain();
      return collect();
    },
    errored(leaseId, error) {
      // A lease handed back (paused, shutting down, busy) is a departure, not an attempt.
      lost(leaseId, 'errored', `${error.code}: ${error.message}`, false, isHandback(error.code));
      return collect();
    },
    tick() {
      const t = now();
      disputes.tick();
      // Records move on: an accepted result short of the target may meet it now, or find a donor to add to it.
      for (const task of verification.unfinal())
        verification.recheck(task, 'short of the target error');
      for (const lease of ledger.all()) {
        if (lease.state === 'leased' && t > lease.ackBy) {
          lost(lease.id, 'expired', 'no acknowledgement in time', true);
        } else if (t > lease.deadline) lost(lease.id, 'expired', 'past its deadline', true);
      }
      return collect();
    },
    cancel() {
      if (jobState === 'pending' || jobState === 'running') {
        for (const lease of ledger.all()) ledger.end(lease.id, 'cancelled', 'job cancelled', true);
        setJobState('cancelled');
      }
      return actions.splice(0);
    },
    state: () => jobState,
    soloChance: (d) => (isAnchor(d) ? 0 : soloChance(book.audited(d), policy)),
    progress: () => records.progress(),
    result: (taskId) => {
      const t = graph.get(taskId);
      return t?.state === 'verified' ? t.accepted?.outputs : undefined;
    },
    taskState: (taskId) => {
      const t = graph.get(taskId);
      if (t) return t.state;
      if (graph.source.indexOf(taskId) < 0) return undefined;
      // Out of memory: retired (verified, result in the store) or a group task not reached yet.
      return graph.isRetired(taskId) ? 'verified' : 'ready';
    },
    takeEvents: () => log.take(),
    takeDelta: () => {
      const delta = records.takeDelta();
      for (const r of delta.results) {
        const t = graph.get(r.taskId);
        if (t && t.index >= graph.source.explicit && t.dependents.length === 0) queueRetire(t);
      }
      retire();
      return delta;
    },
    snapshot: () => records.snapshot(),
    close: () => exclusions.close(),
  };
}

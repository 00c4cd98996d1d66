/**
 * The job engine: one job's scheduling, leases and verification, driven by
 * the submitter runtime (Node CLI, web page) and by the simulator alike.
 * Event-driven and pure: every input returns the actions to carry out; time
 * is read from the injected `now`, randomness from the injected `random`.
 */
import type { PeerId } from '../contracts.ts';
import { PeerGridError, type WireError } from '../errors.ts';
import type { Now, Random } from '../platform.ts';
import type { TensorMap } from '../tensor.ts';
import { outputsMatch } from './compare.ts';
import { createEngineCore, type TaskRt } from './engine-core.ts';
import type { ReputationBook } from './reputation.ts';
import { type JobSpec, validateJob } from './spec.ts';
import { transition } from './state.ts';
import type {
  DonorInfo,
  EngineAction,
  EngineDelta,
  EngineSnapshot,
  JobEvent,
  JobProgress,
} from './types.ts';

export interface JobEngineOptions {
  /** Id from `jobIdOf(spec)`. */
  readonly jobId: string;
  /** The job; refused with `invalid-job` unless `validateJob` passes. */
  readonly spec: JobSpec;
  readonly now: Now;
  readonly random: Random;
  /** Shared across a submitter's jobs; persisted by the runtime. */
  readonly reputation: ReputationBook;
  /** State from a store, to resume after a reload. In-flight leases are re-issued. */
  readonly restore?: EngineSnapshot;
  /** Caps the leases in flight per donor: min(its `maxConcurrency`, this), at least 1. Default 4. */
  readonly maxInFlightPerDonor?: number;
  /** Keep the event log (turn off in large simulations). Default true. */
  readonly recordEvents?: boolean;
}

export interface JobEngine {
  readonly jobId: string;
  /** A donor joined (or its capabilities changed). May assign work to it. */
  donorAvailable(info: DonorInfo): EngineAction[];
  /** A donor left: its leases are re-issued elsewhere. */
  donorGone(id: PeerId): EngineAction[];
  /** The donor acknowledged a lease (before `ackTimeoutMs`). */
  acked(leaseId: string): EngineAction[];
  /** The donor returned outputs; `computeMs` is its pure compute time (credit). */
  reported(leaseId: string, outputs: TensorMap, computeMs: number): EngineAction[];
  /** The donor could not run the lease. Counts as a failed attempt. */
  errored(leaseId: string, error: WireError): EngineAction[];
  /** Expires leases past their ack timeout or deadline; call on a timer (e.g. every second). */
  tick(): EngineAction[];
  /** Stops the job: every lease is cancelled. */
  cancel(): EngineAction[];
  progress(): JobProgress;
  /** Accepted outputs of a verified task. */
  result(taskId: string): TensorMap | undefined;
  /** Events since the last call, in order. */
  takeEvents(): JobEvent[];
  /** Changes since the last call, to write in one store transaction. */
  takeDelta(): EngineDelta;
  snapshot(): EngineSnapshot;
  /** Detaches from the reputation book. */
  close(): void;
}

/** Throws `invalid-job` (with every `validateJob` error in the message) for a spec that does not validate. */
/** Donor departures a task absorbs per attempt of `maxAttempts` before it fails. */
export const DEPARTURES_PER_ATTEMPT = 4;

export function createJobEngine(options: JobEngineOptions): JobEngine {
  const errors = validateJob(options.spec);
  if (errors.length > 0) {
    throw new PeerGridError('invalid-job', errors.map((e) => `${e.code}: ${e.message}`).join('; '));
  }
  const core = createEngineCore(options);
  const { st, book, policy, actions, event } = core;

  const collect = (): EngineAction[] => {
    // Settling a starved dispute during placement may exclude a donor.
    do {
      core.drainExclusions();
      core.schedule();
    } while (core.hasPendingExclusions());
    const out = actions.splice(0);
    core.checkDone();
    return out;
  };

  const finishLease = (leaseId: string) => {
    const lease = st.leases.get(leaseId);
    if (!lease) return undefined;
    st.leases.delete(leaseId);
    lease.task.leases.delete(lease);
    const donor = st.donors.get(lease.donor);
    if (donor) donor.inFlight--;
    if (!lease.spot) lease.task.inFlight--;
    return lease;
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
    const lease = finishLease(leaseId);
    if (!lease) return;
    lease.state = transition('replica', lease.state, to);
    const task = lease.task;
    task.used.delete(lease.donor);
    event(to === 'expired' ? 'lease-expired' : 'lease-errored', {
      taskId: task.spec.id,
      leaseId,
      donor: lease.donor,
      message: reason,
    });
    if (notify) actions.push({ type: 'cancel', leaseId, donor: lease.donor, reason });
    if (lease.spot || task.state !== 'running') return;
    if (departed) task.departures++;
    else task.attempts++;
    core.dirty(task);
    if (task.attempts >= policy.maxAttempts) {
      core.failTask(task, `${task.attempts} attempts ended without a result; last: ${reason}`);
    } else if (task.departures >= policy.maxAttempts * DEPARTURES_PER_ATTEMPT) {
      core.failTask(task, `${task.departures} donors left while running it; last: ${reason}`);
    } else core.enqueue(task, true);
  };

  const onReport = (task: TaskRt, vote: TaskRt['results'][number]) => {
    if (task.state === 'running') return core.evaluate(task);
    if (task.state !== 'verified' || !task.accepted) return; // failed or invalidated meanwhile
    // A known-answer check (or a late extra replica) against an accepted result.
    const acc = task.accepted;
    if (outputsMatch(acc.outputs, vote.outputs, policy.compare)) {
      if (vote.spot) st.spot.passed++;
      book.agreed(vote.donor, { spot: vote.spot });
      book.credit(vote.donor, vote.computeMs);
      vote.credited = true;
      core.addBacker(task, vote.donor);
      event('spot-passed', { taskId: task.spec.id, donor: vote.donor });
      return;
    }
    if (vote.spot) st.spot.failed++;
    event('spot-failed', { taskId: task.spec.id, donor: vote.donor });
    if (acc.firm) {
      book.disagreed(vote.donor);
      core.excludeOver(
        vote.donor,
        task,
        `contradicted the verified result of task ${task.spec.id}`,
      );
    } else core.reopen(task, `contradicted by ${vote.donor}`);
  };

  return {
    jobId: options.jobId,
    donorAvailable(info) {
      core.upsertDonor(info);
      return collect();
    },
    donorGone(id) {
      for (const lease of [...st.leases.values()]) {
        if (lease.donor === id) lost(lease.id, 'expired', 'donor gone', false, true);
      }
      st.donors.delete(id);
      return collect();
    },
    acked(leaseId) {
      const lease = st.leases.get(leaseId);
      if (lease?.state === 'leased') {
        lease.state = transition('replica', lease.state, 'acknowledged');
        event('lease-acked', { taskId: lease.task.spec.id, leaseId, donor: lease.donor });
      }
      return collect();
    },
    reported(leaseId, outputs, computeMs) {
      const lease = finishLease(leaseId);
      if (!lease) return collect(); // late or unknown: ignored
      lease.state = transition('replica', lease.state, 'reported');
      st.resultsReceived++;
      const donor = st.donors.get(lease.donor);
      if (donor) donor.reported++;
      const task = lease.task;
      const vote = {
        donor: lease.donor,
        outputs,
        backend: lease.backend,
        computeMs,
        spot: lease.spot,
        credited: false,
      };
      task.results.push(vote);
      core.indexVote(task, lease.donor);
      event('lease-reported', { taskId: task.spec.id, leaseId, donor: lease.donor });
      if (!book.isExcluded(lease.donor)) onReport(task, vote);
      core.drainExclusions();
      return collect();
    },
    errored(leaseId, error) {
      lost(leaseId, 'errored', `${error.code}: ${error.message}`, false);
      return collect();
    },
    tick() {
      const t = options.now();
      core.tickParked();
      for (const lease of [...st.leases.values()]) {
        if (lease.state === 'leased' && t > lease.ackBy) {
          lost(lease.id, 'expired', 'no acknowledgement in time', true);
        } else if (t > lease.deadline) lost(lease.id, 'expired', 'past its deadline', true);
      }
      return collect();
    },
    cancel() {
      if (st.state === 'pending' || st.state === 'running') {
        for (const lease of [...st.leases.values()]) {
          finishLease(lease.id);
          lease.state = transition('replica', lease.state, 'cancelled');
          actions.push({
            type: 'cancel',
            leaseId: lease.id,
            donor: lease.donor,
            reason: 'job cancelled',
          });
        }
        core.setJobState('cancelled');
      }
      return actions.splice(0);
    },
    progress: () => core.progress(),
    result: (taskId) => {
      const t = st.byId.get(taskId);
      return t?.state === 'verified' ? t.accepted?.outputs : undefined;
    },
    takeEvents: () => st.events.splice(0),
    takeDelta: () => core.takeDelta(),
    snapshot: () => core.snapshot(),
    close: () => core.close(),
  };
}

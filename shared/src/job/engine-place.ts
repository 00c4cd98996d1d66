/**
 * Placement: which donor runs which replica next. Urgent work (disputes,
 * re-verification, re-issued leases) first, then fresh tasks in order; a
 * share of assignments are known-answer checks (re-runs of verified tasks);
 * a trusted donor's fresh task is planned solo (adaptive replication).
 */
import type { Now, Random } from '../platform.ts';
import type { DonorRt, EngineState, LeaseRt, TaskRt } from './engine-types.ts';
import type { ReputationBook } from './reputation.ts';
import { pickDonor } from './scheduler.ts';
import type { Policy } from './spec.ts';
import { type TaskState, transition } from './state.ts';
import type { EngineAction, JobEvent, JobEventType } from './types.ts';

export interface PlaceContext {
  readonly o: { readonly now: Now; readonly random: Random };
  readonly policy: Policy;
  readonly book: ReputationBook;
  readonly st: EngineState;
  readonly actions: EngineAction[];
  readonly event: (type: JobEventType, e?: Omit<JobEvent, 'jobId' | 'seq' | 'at' | 'type'>) => void;
  readonly need: (t: TaskRt) => number;
  readonly setTask: (t: TaskRt, to: TaskState) => void;
  readonly urgent: TaskRt[];
  readonly fresh: TaskRt[];
  readonly firmPool: TaskRt[];
  readonly weakPool: TaskRt[];
  /** An urgent task no donor could take: settle it if no donor on offer ever could. */
  readonly settleStarved: (t: TaskRt) => boolean;
}

/** Fresh tasks waiting for an eligible donor before fresh placement pauses. */
const MAX_SKIPS = 32;

export function createPlacer(c: PlaceContext) {
  const { o, policy, book, st, actions, event, need, setTask, urgent, fresh, firmPool, weakPool } =
    c;
  let freshHead = 0;
  /** Fresh tasks (in order) skipped because no donor with room could take them. */
  const waiting: TaskRt[] = [];

  const spotSeed = (d: DonorRt): TaskRt | null => {
    const pool = firmPool.length > 0 ? firmPool : weakPool;
    for (let tries = 0; tries < 4 && pool.length > 0; tries++) {
      const i = Math.floor(o.random() * pool.length);
      const t = pool[i]!;
      if (t.state !== 'verified' || (pool === firmPool && !t.accepted?.firm)) {
        pool[i] = pool[pool.length - 1]!;
        pool.pop();
        continue;
      }
      if (!t.feeds || t.used.has(d.id) || t.accepted?.backers.includes(d.id)) continue;
      if (policy.compare.kind === 'exact' && t.accepted?.backend !== d.backend) continue;
      return t;
    }
    return null;
  };

  const lease = (t: TaskRt, d: DonorRt, spot: boolean) => {
    const now = o.now();
    const id = `${(++st.leaseCounter).toString(36)}-${Math.floor(o.random() * 2 ** 32).toString(36)}`;
    const l: LeaseRt = {
      id,
      task: t,
      donor: d.id,
      backend: d.backend,
      spot,
      deadline: now + policy.taskDeadlineMs,
      ackBy: now + policy.ackTimeoutMs,
      state: transition('replica', 'pending', 'leased'),
    };
    st.leases.set(id, l);
    t.leases.add(l);
    d.inFlight++;
    t.used.add(d.id);
    if (spot) st.spot.issued++;
    else t.inFlight++;
    event('lease-issued', {
      taskId: t.spec.id,
      leaseId: id,
      donor: d.id,
      message: spot ? 'check' : '',
    });
    actions.push({
      type: 'assign',
      leaseId: id,
      taskId: t.spec.id,
      donor: d.id,
      modelHash: t.spec.model,
      feeds: t.feeds ?? {},
      ...(t.spec.outputs ? { outputs: t.spec.outputs } : {}),
      backend: d.backend,
      deadline: l.deadline,
      ackBy: l.ackBy,
    });
  };

  const excluded = (id: string) => book.isExcluded(id);
  /** Places replicas of one task; false when no donor could take one. */
  const place = (t: TaskRt): boolean => {
    while (need(t) > 0) {
      const d = pickDonor(st.donors.values(), {
        skip: excluded,
        exclude: t.used,
        strictBackend: policy.compare.kind === 'exact' && t.backend !== undefined,
        preferTrusted: t.preferTrusted,
        requireTrusted: t.escalated === true,
        ...(t.backend ? { backend: t.backend } : {}),
      });
      if (!d) return false;
      const dr = d as DonorRt;
      const trusted = book.isTrusted(dr.id);
      const rate = trusted ? policy.spotCheckRate : policy.probationSpotCheckRate;
      if (o.random() < rate) {
        const seed = spotSeed(dr);
        if (seed) {
          lease(seed, dr, true);
          continue;
        }
      }
      if (t.state === 'ready') {
        setTask(t, 'running');
        t.backend = dr.backend;
        if (policy.adaptive && trusted) {
          t.solo = true;
          t.target = 1;
        }
      }
      lease(t, dr, false);
    }
    return true;
  };

  const hasCapacity = () => {
    for (const d of st.donors.values())
      if (d.inFlight < d.slots && !book.isExcluded(d.id)) return true;
    return false;
  };

  /**
   * Urgent tasks first, then fresh tasks that no donor could take before
   * (`waiting`, in order), then fresh tasks from `freshHead`. Every fresh task
   * is looked at once: one that cannot be placed moves to `waiting`, so each
   * call costs O(placements + waiting + donors), not O(tasks).
   */
  const schedule = () => {
    if (st.state !== 'running' || !hasCapacity()) return;
    for (let i = 0; i < urgent.length; ) {
      const t = urgent[i]!;
      if (need(t) <= 0 || place(t) || c.settleStarved(t)) {
        t.queued = false;
        urgent.splice(i, 1);
      } else if (!hasCapacity()) return;
      else i++;
    }
    for (let i = 0; i < waiting.length; ) {
      const t = waiting[i]!;
      if (!t.queued || need(t) <= 0 || place(t)) {
        t.queued = false;
        waiting.splice(i, 1);
      } else if (!hasCapacity()) return;
      else i++;
    }
    while (freshHead < fresh.length && waiting.length < MAX_SKIPS) {
      const t = fresh[freshHead]!;
      if (t.queued && need(t) > 0 && !place(t)) {
        if (!hasCapacity()) return; // out of donors, not out of luck: try it again first
        waiting.push(t);
      } else t.queued = false;
      freshHead++;
      if (!hasCapacity()) break;
    }
    if (freshHead > 4096 && freshHead * 2 > fresh.length) {
      fresh.splice(0, freshHead);
      freshHead = 0;
    }
  };

  return { schedule };
}

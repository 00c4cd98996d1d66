/**
 * The lease ledger: the one owner of leases. It issues them (an `assign`
 * action), ends them (reported, expired, errored, cancelled) and keeps the
 * in-flight counts of donors and tasks. Every change is an event.
 */
import type { PeerId } from '../contracts.ts';
import type { Now, Random } from '../platform.ts';
import type { EventLog } from './event-log.ts';
import type { DonorRt, Lease, TaskRt } from './runtime.ts';
import type { Policy } from './spec.ts';
import { transition } from './state.ts';
import type { EngineAction } from './types.ts';

/** Lease ids remembered to keep new ones distinct (see `recent`). */
const RECENT_IDS = 65_536;

/** How a lease ended without a result. */
export type LeaseLoss = 'expired' | 'errored' | 'cancelled';

export interface LeaseLedger {
  /** Sends `task` to `donor` under a new lease. */
  issue(task: TaskRt, donor: DonorRt, audit: boolean, o?: IssueOptions): Lease;
  get(id: string): Lease | undefined;
  /** Leases in flight, oldest first (a copy). */
  all(): Lease[];
  readonly size: number;
  acked(id: string): Lease | undefined;
  /** The lease's result came back: it leaves the ledger. Undefined when unknown or ended. */
  reported(id: string): Lease | undefined;
  /**
   * Ends a lease without a result; `notify` tells the donor (a `cancel`
   * action). The donor no longer counts as holding the task.
   */
  end(id: string, to: LeaseLoss, reason: string, notify: boolean): Lease | undefined;
  /** Cancels `task`'s leases, telling their donors; those `keep` holds run on. */
  cancelTask(task: TaskRt, reason: string, keep?: (l: Lease) => boolean): void;
  /** Cancels every lease of `donor`, telling it. */
  cancelDonor(donor: PeerId, reason: string): void;
}

export interface IssueOptions {
  /** When its result is expected, ms from now. Default: the task deadline. */
  readonly expectedMs?: number;
  /** A backup of a straggling lease of the task. Default false. */
  readonly backup?: boolean;
}

export function createLeaseLedger(o: {
  readonly now: Now;
  readonly random: Random;
  readonly policy: Policy;
  readonly donors: ReadonlyMap<PeerId, DonorRt>;
  readonly log: EventLog;
  readonly actions: EngineAction[];
}): LeaseLedger {
  const { policy, donors, log, actions } = o;
  const leases = new Map<string, Lease>();
  /**
   * Ids issued lately (a bounded window, so a million-task job holds no
   * million ids): with a real random source ids never repeat anyway; with a
   * constant one (tests) a lease still never takes a recent lease's id.
   */
  const recent = new Set<string>();
  const recentOrder: string[] = [];
  let recentHead = 0;

  const leave = (l: Lease) => {
    leases.delete(l.id);
    l.task.leases.delete(l);
    const d = donors.get(l.donor);
    if (d) d.inFlight--;
    l.task.inFlight--;
  };
  const ids = (l: Lease) => ({ taskId: l.task.spec.id, leaseId: l.id, donor: l.donor });

  const end = (id: string, to: LeaseLoss, reason: string, notify: boolean) => {
    const l = leases.get(id);
    if (!l) return undefined;
    leave(l);
    l.state = transition('replica', l.state, to);
    l.task.used.delete(l.donor);
    const type =
      to === 'expired' ? 'lease-expired' : to === 'errored' ? 'lease-errored' : 'lease-cancelled';
    log.emit(type, { ...ids(l), message: reason });
    if (notify) actions.push({ type: 'cancel', leaseId: id, donor: l.donor, reason });
    return l;
  };

  return {
    issue(task, donor, audit, io = {}) {
      const now = o.now();
      let id = opaqueId(o.random);
      for (let n = 0; recent.has(id) || leases.has(id); n++)
        id = `${opaqueId(o.random)}${n.toString(36)}`;
      recent.add(id);
      recentOrder.push(id);
      if (recentOrder.length - recentHead > RECENT_IDS) recent.delete(recentOrder[recentHead++]!);
      if (recentHead > RECENT_IDS) {
        recentOrder.splice(0, recentHead);
        recentHead = 0;
      }
      const l: Lease = {
        id,
        task,
        donor: donor.id,
        backend: donor.backend,
        audit,
        deadline: now + policy.taskDeadlineMs,
        ackBy: now + policy.ackTimeoutMs,
        issuedAt: now,
        expectedMs: io.expectedMs ?? policy.taskDeadlineMs,
        backup: io.backup ?? false,
        backedUp: false,
        state: transition('replica', 'pending', 'leased'),
      };
      leases.set(id, l);
      task.leases.add(l);
      donor.inFlight++;
      task.used.add(donor.id);
      task.inFlight++;
      log.emit('lease-issued', { ...ids(l), ...(audit ? { audit } : {}) });
      actions.push({
        type: 'assign',
        leaseId: id,
        taskId: task.spec.id,
        donor: donor.id,
        modelHash: task.spec.model,
        feeds: task.feeds ?? {},
        ...(task.spec.outputs ? { outputs: task.spec.outputs } : {}),
        backend: donor.backend,
        deadline: l.deadline,
        ackBy: l.ackBy,
      });
      return l;
    },
    get: (id) => leases.get(id),
    all: () => [...leases.values()],
    get size() {
      return leases.size;
    },
    acked(id) {
      const l = leases.get(id);
      if (l?.state !== 'leased') return undefined;
      l.state = transition('replica', l.state, 'acknowledged');
      log.emit('lease-acked', ids(l));
      return l;
    },
    reported(id) {
      const l = leases.get(id);
      if (!l) return undefined;
      leave(l);
      l.state = transition('replica', l.state, 'reported');
      log.emit('lease-reported', ids(l));
      return l;
    },
    end,
    cancelTask(task, reason, keep) {
      for (const l of [...task.leases]) if (!keep?.(l)) end(l.id, 'cancelled', reason, true);
    },
    cancelDonor(donor, reason) {
      for (const l of [...leases.values()])
        if (l.donor === donor) end(l.id, 'cancelled', reason, true);
    },
  };
}

/**
 * A lease id: 128 random bits, base 36. No counter and nothing of the task:
 * a donor learns nothing from it about the job's size, order or checks.
 */
function opaqueId(random: Random): string {
  let id = '';
  for (let i = 0; i < 4; i++)
    id += Math.floor(random() * 2 ** 32)
      .toString(36)
      .padStart(7, '0');
  return id;
}

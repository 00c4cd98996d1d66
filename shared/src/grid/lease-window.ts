/**
 * How many leases a donor should hold at once, the way TCP sizes a window
 * from the bandwidth-delay product: enough that each of its slots still has
 * work while a result travels back and the next assign travels out. A slot
 * finishes a task every `taskMs`; a round trip takes `rttMs`; so a slot needs
 * one task running and `rttMs ÷ taskMs` more on their way. The window is
 * bounded by memory (the feeds every queued lease holds) and by the deadline
 * (a lease queued behind too many others would expire before it runs).
 */
export interface LeaseWindowInputs {
  /** Tasks the donor runs at once (its `maxConcurrency`). */
  readonly slots: number;
  /** Heartbeat round trip to the donor, ms; undefined before the first pong. */
  readonly rttMs: number | undefined;
  /** Time a slot of this donor takes per task, ms (measured); undefined before its first result. */
  readonly taskMs: number | undefined;
  /** Leases per slot when nothing is measured yet, and the least ever. Default 2. */
  readonly minPerSlot?: number;
  /** Most leases per donor (what the donor accepts, and memory). Default 256. */
  readonly maxLeases?: number;
  /** Lease deadline, ms: no lease waits more than half of it in the queue. Default none. */
  readonly deadlineMs?: number;
}

/** Headroom over the bare product: round trips and task times jitter. */
const MARGIN = 1.5;

/** Leases to keep in flight to a donor. */
export function leaseWindow(i: LeaseWindowInputs): number {
  const slots = Math.max(1, Math.floor(i.slots));
  const minPerSlot = Math.max(1, i.minPerSlot ?? 2);
  const maxLeases = Math.max(slots, i.maxLeases ?? 256);
  let perSlot = minPerSlot;
  if (i.rttMs !== undefined && i.taskMs !== undefined && i.taskMs > 0) {
    perSlot = Math.max(minPerSlot, 1 + Math.ceil((MARGIN * i.rttMs) / i.taskMs));
    if (i.deadlineMs !== undefined) {
      perSlot = Math.min(perSlot, Math.max(1, Math.floor(i.deadlineMs / 2 / i.taskMs)));
    }
  }
  return Math.min(maxLeases, slots * perSlot);
}

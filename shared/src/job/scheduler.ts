/**
 * Donor choice for task replicas: distinct donors per task, the same backend
 * class where possible (required under exact comparison), least loaded first,
 * bounded in-flight per donor; and a fair queue for donors serving several
 * submitters.
 */
import type { Backend, PeerId } from '../contracts.ts';

/** A donor as the scheduler sees it. */
export interface DonorSlot {
  readonly id: PeerId;
  readonly backend: Backend;
  readonly inFlight: number;
  /** In-flight bound for this donor (>= 1). */
  readonly slots: number;
  readonly trusted: boolean;
}

export interface ReplicaRequest {
  /** Donors that already hold (or held) a replica of this task. */
  readonly exclude: ReadonlySet<PeerId>;
  /** Backend class of the task's other replicas, if any. */
  readonly backend?: Backend;
  /** Only donors of `backend` qualify (exact comparison). */
  readonly strictBackend: boolean;
  /** Prefer trusted donors (disputes, re-verification). */
  readonly preferTrusted: boolean;
  /** Only trusted donors qualify (a tie-breaker). Default false. */
  readonly requireTrusted?: boolean;
  /** Donors that never qualify (e.g. excluded ones). Default none. */
  readonly skip?: (id: PeerId) => boolean;
}

/**
 * The best donor for one replica, or null: free capacity, not excluded, the
 * backend class when required; then trusted (if preferred), same backend
 * class, lowest load ratio, fewest in flight, id (deterministic).
 */
export function pickDonor(donors: Iterable<DonorSlot>, req: ReplicaRequest): DonorSlot | null {
  let best: DonorSlot | null = null;
  let bestRank = 0;
  let bestLoad = 0;
  for (const d of donors) {
    if (d.inFlight >= d.slots || req.exclude.has(d.id) || req.skip?.(d.id)) continue;
    const sameClass = req.backend === undefined || d.backend === req.backend;
    if (req.strictBackend && !sameClass) continue;
    const trusted = req.preferTrusted || req.requireTrusted ? d.trusted : true;
    if (req.requireTrusted && !trusted) continue;
    // Lexicographic: untrusted when trust is preferred, other class, load ratio, in flight, id.
    const rank = (req.preferTrusted && !trusted ? 2 : 0) + (sameClass ? 0 : 1);
    const load = d.inFlight / d.slots;
    if (
      !best ||
      rank < bestRank ||
      (rank === bestRank &&
        (load < bestLoad ||
          (load === bestLoad &&
            (d.inFlight < best.inFlight || (d.inFlight === best.inFlight && d.id < best.id)))))
    ) {
      best = d;
      bestRank = rank;
      bestLoad = load;
    }
  }
  return best;
}

/**
 * Round-robin across owners (submitters or jobs): a donor serving several
 * takes their work in turn, FIFO within each owner.
 */
export interface FairQueue<T> {
  push(owner: string, item: T): void;
  shift(): T | undefined;
  /** Drops an owner's queued items (it left); returns them. */
  drop(owner: string): T[];
  readonly size: number;
}

export function createFairQueue<T>(): FairQueue<T> {
  const queues = new Map<string, T[]>();
  let size = 0;
  return {
    push(owner, item) {
      let q = queues.get(owner);
      if (!q) {
        q = [];
        queues.set(owner, q);
      }
      q.push(item);
      size++;
    },
    shift() {
      for (const [owner, q] of queues) {
        const item = q.shift();
        queues.delete(owner);
        if (q.length > 0) queues.set(owner, q); // to the back of the rotation
        if (item !== undefined) {
          size--;
          return item;
        }
      }
      return undefined;
    },
    drop(owner) {
      const q = queues.get(owner) ?? [];
      queues.delete(owner);
      size -= q.length;
      return q;
    },
    get size() {
      return size;
    },
  };
}

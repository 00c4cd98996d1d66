/**
 * Donor choice for a task's leases: distinct donors per task, the same
 * backend class where possible (required under exact comparison), least
 * loaded first, bounded in-flight per donor; and a fair queue for donors
 * serving several submitters.
 */
import type { Backend, PeerId } from '../contracts.ts';

/** A donor as the scheduler sees it. */
export interface DonorSlot {
  readonly id: PeerId;
  readonly backend: Backend;
  readonly inFlight: number;
  /** In-flight bound for this donor (>= 1). */
  readonly slots: number;
  /** Its results are right by construction (own executor, trusted by key). */
  readonly anchor: boolean;
  /** Its audited record makes it a credible witness. */
  readonly credible: boolean;
}

export interface ReplicaRequest {
  /** Donors that already hold (or held) a lease of this task. */
  readonly exclude: ReadonlySet<PeerId>;
  /** Backend class of the task's other leases, if any. */
  readonly backend?: Backend;
  /** Only donors of `backend` qualify (exact comparison). */
  readonly strictBackend: boolean;
  /** Anchors first, then credible donors (disputes, re-verification). Default false: anchors last. */
  readonly preferCredible?: boolean;
  /** Only anchors qualify (a dispute an anchor settles, an anchor's share). Default false. */
  readonly requireAnchor?: boolean;
  /** Donors that never qualify (e.g. excluded ones). Default none. */
  readonly skip?: (id: PeerId) => boolean;
}

/**
 * The best donor for one lease, or null: free capacity, not excluded, the
 * backend class when required; then by rank (with `preferCredible`:
 * anchors, credible donors, the rest; otherwise anchors last, since their
 * time is the submitter's own), same backend class, lowest load ratio,
 * fewest in flight, id (deterministic).
 */
export function pickDonor(donors: Iterable<DonorSlot>, req: ReplicaRequest): DonorSlot | null {
  let best: DonorSlot | null = null;
  let bestRank = 0;
  let bestLoad = 0;
  for (const d of donors) {
    if (d.inFlight >= d.slots || req.exclude.has(d.id) || req.skip?.(d.id)) continue;
    if (req.requireAnchor && !d.anchor) continue;
    const sameClass = req.backend === undefined || d.backend === req.backend;
    if (req.strictBackend && !sameClass) continue;
    const standing = req.preferCredible ? (d.anchor ? 0 : d.credible ? 1 : 2) : d.anchor ? 1 : 0;
    const rank = standing * 2 + (sameClass ? 0 : 1);
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
 * takes their work in turn, FIFO within each owner, weighted by nothing but
 * presence: an owner with a hundred items queued gets the same turns as one
 * with a single item, so queueing more (pipelining harder) takes no more.
 */
export interface FairQueue<T> {
  push(owner: string, item: T): void;
  /** The next owner's oldest item; that owner goes to the back of the rotation. */
  shift(): T | undefined;
  /** Removes one queued item of `owner`; false when it was not queued. */
  remove(owner: string, item: T): boolean;
  /** Removes and returns `owner`'s newest item (the one it asked for last). */
  pop(owner: string): T | undefined;
  /** Drops an owner's queued items (it left); returns them. */
  drop(owner: string): T[];
  /** Items queued for `owner`. */
  sizeOf(owner: string): number;
  /** The owner with the most items queued (the first such in rotation order), if any. */
  largest(): string | undefined;
  /** Owners with items queued, in rotation order. */
  owners(): string[];
  readonly size: number;
}

export function createFairQueue<T>(): FairQueue<T> {
  const queues = new Map<string, T[]>();
  let size = 0;
  const take = (owner: string, q: T[], at: number): T | undefined => {
    const [item] = q.splice(at, 1);
    if (q.length === 0) queues.delete(owner);
    size--;
    return item;
  };
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
      const first = queues.entries().next();
      if (first.done) return undefined;
      const [owner, q] = first.value;
      const item = take(owner, q, 0);
      if (queues.delete(owner)) queues.set(owner, q); // to the back of the rotation
      return item;
    },
    remove(owner, item) {
      const q = queues.get(owner);
      const at = q?.indexOf(item) ?? -1;
      if (!q || at < 0) return false;
      take(owner, q, at);
      return true;
    },
    pop(owner) {
      const q = queues.get(owner);
      return q ? take(owner, q, q.length - 1) : undefined;
    },
    drop(owner) {
      const q = queues.get(owner) ?? [];
      queues.delete(owner);
      size -= q.length;
      return q;
    },
    sizeOf: (owner) => queues.get(owner)?.length ?? 0,
    largest() {
      let best: string | undefined;
      let most = 0;
      for (const [owner, q] of queues)
        if (q.length > most) {
          best = owner;
          most = q.length;
        }
      return best;
    },
    owners: () => [...queues.keys()],
    get size() {
      return size;
    },
  };
}

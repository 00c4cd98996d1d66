/**
 * Seeding models through the swarm: a donor that lacks a task's model
 * fetches it from every peer that holds it, so the runner lets only a few
 * donors start fetching one model per holder (see FETCHERS_PER_HOLDER), and
 * holders multiply each round instead of every donor pulling from the
 * submitter's uplink at once. Assigns held back wait
 * here until a `have` frees a place.
 */
import type { PeerId } from '../contracts.ts';
import type { BlobExchange } from '../peer/blob-exchange.ts';
import type { PeerLink } from '../peer/link.ts';
import type { PeerPool } from '../peer/pool.ts';

/**
 * New fetchers allowed per donor that holds the model; the submitter admits
 * one too. 1 = holders double each round; more fetchers per holder would
 * split the holder's upload and slow every round down (measured).
 */
const FETCHERS_PER_HOLDER = 1;

export interface ModelGate {
  /** Calls `send` now (returns true), or later when the donor may fetch the model (false). */
  admit(leaseId: string, donor: PeerId, modelHash: string, send: () => void): boolean;
  /** The lease ended (reported, errored, cancelled): forget it. */
  ended(leaseId: string, donor: PeerId): void;
  close(): void;
}

export function createModelGate(
  blobs: Pick<BlobExchange, 'holders'>,
  pool: Pick<PeerPool, 'on' | 'links'>,
  enabled: boolean,
): ModelGate {
  const fetching = new Map<string, Set<PeerId>>();
  const waiting = new Map<string, { leaseId: string; donor: PeerId; send: () => void }[]>();
  const leases = new Map<string, string>(); // leaseId → modelHash of admitted fetchers
  const offs: (() => void)[] = [];

  const holds = (donor: PeerId, hash: string) => blobs.holders(hash).includes(donor);
  const room = (hash: string) => {
    const f = fetching.get(hash) ?? new Set();
    for (const d of f) if (holds(d, hash)) f.delete(d);
    fetching.set(hash, f);
    return { f, free: blobs.holders(hash).length * FETCHERS_PER_HOLDER + 1 - f.size };
  };

  function pump(hash: string): void {
    const q = waiting.get(hash);
    if (!q) return;
    while (q.length > 0) {
      const { f, free } = room(hash);
      const w = q[0]!;
      if (!holds(w.donor, hash) && !f.has(w.donor)) {
        if (free <= 0) return;
        f.add(w.donor);
        leases.set(w.leaseId, hash);
      }
      q.shift();
      w.send();
    }
  }

  const watch = (link: PeerLink) => {
    link.onMessage((m) => {
      if (m.type === 'have') for (const h of m.hashes) pump(h);
    });
  };
  if (enabled) {
    for (const l of pool.links()) watch(l);
    offs.push(pool.on('link-open', (l) => watch(l)));
  }

  return {
    admit(leaseId, donor, hash, send) {
      if (!enabled || holds(donor, hash)) {
        send();
        return true;
      }
      let sent = false;
      const q = waiting.get(hash) ?? [];
      waiting.set(hash, q);
      q.push({
        leaseId,
        donor,
        send: () => {
          sent = true;
          send();
        },
      });
      pump(hash);
      return sent;
    },
    ended(leaseId, donor) {
      for (const [hash, q] of waiting) {
        const i = q.findIndex((w) => w.leaseId === leaseId);
        if (i >= 0) q.splice(i, 1);
        pump(hash);
      }
      const hash = leases.get(leaseId);
      if (hash === undefined) return;
      leases.delete(leaseId);
      fetching.get(hash)?.delete(donor);
      pump(hash);
    },
    close() {
      for (const off of offs.splice(0)) off();
      waiting.clear();
    },
  };
}

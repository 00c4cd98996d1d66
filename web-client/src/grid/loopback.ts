import type { PeerId, PeerLink, Timers } from '@peergrid/shared';
import { createMemoryPeerPair, createPeerLink } from '@peergrid/shared';

/**
 * This tab donating to its own jobs: two PeerLinks joined in memory, so the
 * submitter side and the donor agent speak the same protocol as over WebRTC.
 */
export function createLoopback(
  selfId: PeerId,
  now: () => number,
  timers: Timers,
): { submitter: PeerLink; donor: PeerLink } {
  const [a, b] = createMemoryPeerPair();
  // In-memory peers never stall; heartbeats would only add noise.
  const quiet = { heartbeatIntervalMs: 3_600_000, deadAfterMs: 7_200_000 };
  return {
    submitter: createPeerLink({ peer: a, remoteId: selfId, now, timers, ...quiet }),
    donor: createPeerLink({ peer: b, remoteId: selfId, now, timers, ...quiet }),
  };
}

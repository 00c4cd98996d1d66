import { vi } from 'vitest';
import {
  createMemoryPeerPair,
  createPeerLink,
  type PeerLink,
  type PeerLinkOptions,
  type Sha256Hex,
  type Timers,
} from '../../src/index.ts';

/** Virtual time: timers fire only when `advance` passes their due time. */
export function createVirtualTime() {
  let t = 0;
  let nextId = 1;
  const pending = new Map<number, { at: number; fn: () => void }>();
  const timers: Timers = {
    setTimeout(fn, ms) {
      const id = nextId++;
      pending.set(id, { at: t + Math.max(0, ms), fn });
      return id;
    },
    clearTimeout(h) {
      pending.delete(h as number);
    },
  };
  async function advance(ms: number): Promise<void> {
    const end = t + ms;
    for (;;) {
      await flush();
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of pending) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      pending.delete(next[0]);
      t = next[1].at;
      next[1].fn();
    }
    t = end;
    await flush();
  }
  return { now: () => t, timers, advance, pendingCount: () => pending.size };
}

/** Waits (real time: WebCrypto hashes off-thread) until `check` stops throwing. */
export function until(check: () => void | Promise<void>): Promise<void> {
  return vi.waitFor(check, { timeout: 5000, interval: 2 });
}

/** Waits `ms` of real time (work off the event loop, e.g. WebCrypto, gets to finish). */
export function sleep(ms: number): Promise<void> {
  const g = globalThis as unknown as { setTimeout(fn: () => void, ms: number): unknown };
  return new Promise((resolve) => g.setTimeout(resolve, ms));
}

/** Lets queued microtasks and promise chains run. */
export async function flush(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/** WebCrypto SHA-256 (typed locally: shared compiles without DOM or Node types). */
const subtle = (
  globalThis as unknown as {
    crypto: { subtle: { digest(alg: string, data: Uint8Array): Promise<ArrayBuffer> } };
  }
).crypto.subtle;

export const sha256: Sha256Hex = async (b) =>
  Array.from(new Uint8Array(await subtle.digest('SHA-256', b)), (x) =>
    x.toString(16).padStart(2, '0'),
  ).join('');

/** Two PeerLinks joined in memory, on virtual time. */
export function linkPair(
  vt: ReturnType<typeof createVirtualTime>,
  extra: Partial<PeerLinkOptions> = {},
  /** Options of the second link only (e.g. an older `protocol`). */
  extraB: Partial<PeerLinkOptions> = {},
): [PeerLink, PeerLink] {
  const [pa, pb] = createMemoryPeerPair();
  const base = { now: vt.now, timers: vt.timers, ...extra };
  return [
    createPeerLink({ ...base, peer: pa, remoteId: 'b' }),
    createPeerLink({ ...base, ...extraB, peer: pb, remoteId: 'a' }),
  ];
}

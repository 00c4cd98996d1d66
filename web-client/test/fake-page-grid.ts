/**
 * A test grid for the page's job host: this tab ("me", donating over its
 * loopback) and remote donor tabs over memory links, each a donor agent over
 * an executor that doubles `x`.
 */
import type {
  Capabilities,
  Executor,
  GridPresence,
  PeerInfo,
  PeerLink,
  PeerPool,
  TensorMap,
} from '@peergrid/shared';
import {
  createBlobExchange,
  createDonorAgent,
  createMemoryBlobCache,
  createMemoryPeerPair,
  createPeerLink,
  tensorFrom,
  tensorValues,
} from '@peergrid/shared';
import { createLoopback } from '../src/grid/loopback.ts';
import { now, sha256, timers } from '../src/grid/platform.ts';
import { createSelfView } from '../src/grid/self-presence.ts';

/** An executor that doubles `x` (a liar's triples it). */
export function doubler(liar = false): Executor & { runs: number } {
  const ex = {
    runs: 0,
    concurrency: 2,
    backends: async () => ['wasm' as const],
    close: async () => {},
    async run(req: { feeds: TensorMap }) {
      ex.runs++;
      const x = tensorValues(req.feeds.x!) as Float32Array;
      return {
        outputs: {
          y: tensorFrom(
            'float32',
            [...req.feeds.x!.dims],
            Float32Array.from(x, (v) => v * (liar ? 3 : 2)),
          ),
        },
        backend: 'wasm' as const,
        computeMs: 3,
      };
    },
  };
  return ex;
}

export const caps = (maxConcurrency: number): Capabilities => ({
  runtime: 'browser',
  backends: ['wasm'],
  cores: 2,
  memoryMB: 512,
  maxConcurrency,
});
export const model = new TextEncoder().encode('not onnx: the fake executors never parse it');

/** Remote donor tabs of a test grid: their ids, and which of them lie. */
export interface Remotes {
  readonly ids: readonly string[];
  readonly liars?: readonly string[];
}

/** A grid of this tab ("me", donating over its loopback) and remote donor tabs over memory links. */
export function grid(selfCapacity: () => number, remotes: Remotes) {
  const submitterBlobs = createBlobExchange({
    cache: createMemoryBlobCache(),
    sha256,
    now,
    timers,
  });
  const links = new Map<string, PeerLink>();
  const execs = new Map<string, ReturnType<typeof doubler>>();
  for (const id of remotes.ids) {
    const [pa, pb] = createMemoryPeerPair();
    const toRemote = createPeerLink({ peer: pa, remoteId: id, now, timers });
    const remoteSide = createPeerLink({ peer: pb, remoteId: 'me', now, timers });
    const blobs = createBlobExchange({ cache: createMemoryBlobCache(), sha256, now, timers });
    blobs.attach(remoteSide);
    submitterBlobs.attach(toRemote);
    const exec = doubler(remotes.liars?.includes(id) ?? false);
    createDonorAgent({ executor: exec, blobs, sha256 }).attach(remoteSide);
    links.set(id, toRemote);
    execs.set(id, exec);
  }
  // This tab donating to itself: the donor agent shares the tab's blob exchange.
  const loop = createLoopback('me', now, timers);
  const selfExec = doubler();
  createDonorAgent({ executor: selfExec, blobs: submitterBlobs, sha256 }).attach(loop.donor);

  const peers = new Map<string, PeerInfo>(
    remotes.ids.map((id) => [id, { id, publicKey: id.toLowerCase(), capabilities: caps(2) }]),
  );
  const signaling = {
    selfId: 'me',
    peers: () => peers,
    on: () => () => {},
    updateCapabilities: () => {},
    close: () => {},
  } as unknown as GridPresence;
  const pool = {
    selfId: 'me',
    get: (id: string) => links.get(id),
    connect: async (id: string) => {
      const link = links.get(id);
      if (!link) throw new Error(`no route to ${id}`);
      return link;
    },
    links: () => [...links.values()],
    created: links.size,
    on: () => () => {},
    close: () => {},
  } as unknown as PeerPool;
  const view = createSelfView({
    signaling,
    pool,
    loopback: loop.submitter as PeerLink,
    self: () => ({ id: 'me', publicKey: 'me', capabilities: caps(selfCapacity()) }),
  });
  return { view, blobs: submitterBlobs, execs, selfExec };
}

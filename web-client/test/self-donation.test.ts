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
  createMemoryJobStore,
  createMemoryPeerPair,
  createPeerLink,
  createReputationBook,
  type JobSpec,
  tensorFrom,
  tensorValues,
} from '@peergrid/shared';
import { describe, expect, it } from 'vitest';
import type { GridNode } from '../src/grid/grid-node.ts';
import { createJobHost } from '../src/grid/job-host.ts';
import { createLoopback } from '../src/grid/loopback.ts';
import type { JobMeta, PageDb } from '../src/grid/page-db.ts';
import { now, sha256, timers } from '../src/grid/platform.ts';
import { createSelfView } from '../src/grid/self-presence.ts';

/** An executor that doubles `x`. */
function doubler(): Executor & { runs: number } {
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
            Float32Array.from(x, (v) => v * 2),
          ),
        },
        backend: 'wasm' as const,
        computeMs: 3,
      };
    },
  };
  return ex;
}

const caps = (maxConcurrency: number): Capabilities => ({
  runtime: 'browser',
  backends: ['wasm'],
  cores: 2,
  memoryMB: 512,
  maxConcurrency,
});
const model = new TextEncoder().encode('not onnx: the fake executors never parse it');

/** A grid of this tab ("me", donating over its loopback) and one remote donor "A" over a memory link. */
function grid(selfCapacity: () => number) {
  const submitterBlobs = createBlobExchange({
    cache: createMemoryBlobCache(),
    sha256,
    now,
    timers,
  });
  // Remote donor A.
  const [pa, pb] = createMemoryPeerPair();
  const toA = createPeerLink({ peer: pa, remoteId: 'A', now, timers });
  const aSide = createPeerLink({ peer: pb, remoteId: 'me', now, timers });
  const aBlobs = createBlobExchange({ cache: createMemoryBlobCache(), sha256, now, timers });
  aBlobs.attach(aSide);
  submitterBlobs.attach(toA);
  const aExec = doubler();
  createDonorAgent({ executor: aExec, blobs: aBlobs, sha256 }).attach(aSide);
  // This tab donating to itself: the donor agent shares the tab's blob exchange.
  const loop = createLoopback('me', now, timers);
  const selfExec = doubler();
  createDonorAgent({ executor: selfExec, blobs: submitterBlobs, sha256 }).attach(loop.donor);

  const peers = new Map<string, PeerInfo>([
    ['A', { id: 'A', publicKey: 'a', capabilities: caps(2) }],
  ]);
  const signaling = {
    selfId: 'me',
    peers: () => peers,
    on: () => () => {},
    updateCapabilities: () => {},
    close: () => {},
  } as unknown as GridPresence;
  const pool = {
    selfId: 'me',
    get: (id: string) => (id === 'A' ? toA : undefined),
    connect: async (id: string) => {
      if (id !== 'A') throw new Error(`no route to ${id}`);
      return toA;
    },
    links: () => [toA],
    created: 1,
    on: () => () => {},
    close: () => {},
  } as unknown as PeerPool;
  const view = createSelfView({
    signaling,
    pool,
    loopback: loop.submitter as PeerLink,
    self: () => ({ id: 'me', publicKey: 'me', capabilities: caps(selfCapacity()) }),
  });
  return { view, blobs: submitterBlobs, aExec, selfExec };
}

/** The page's job host (the one the page runs) over this grid, with in-memory storage. */
async function runJob(tasks: number, policy: JobSpec['policy'], selfCapacity: () => number) {
  const g = grid(selfCapacity);
  const store = createMemoryJobStore();
  const book = createReputationBook();
  const metas = new Map<string, JobMeta>();
  const db = {
    getMeta: async (id: string) => metas.get(id),
    putMeta: async (m: JobMeta) => void metas.set(m.jobId, m),
  } as unknown as PageDb;
  const node = {
    identity: { id: 'me' },
    submitterView: g.view,
    peer: { blobs: g.blobs },
  } as unknown as GridNode;
  let changed = () => {};
  const host = await createJobHost({ store, db, node, book, onChange: () => changed() });
  const hash = await sha256(model);
  const submitted = await host.submit({
    name: 'doubling',
    kind: 'custom',
    spec: {
      name: 'doubling',
      models: { [hash]: model },
      tasks: Array.from({ length: tasks }, (_, i) => ({
        id: `t${i}`,
        model: hash,
        feeds: { x: { tensor: tensorFrom('float32', [2], new Float32Array([i, i + 0.5])) } },
      })),
      ...(policy ? { policy } : {}),
    },
  });
  if (!submitted.ok) throw new Error(submitted.error);
  const { jobId } = submitted;
  // The host calls the job shown complete only once the runner has stored and told everything.
  await new Promise<void>((resolve) => {
    changed = () => {
      if (host.detail(jobId)?.state === 'completed') resolve();
    };
    changed();
  });
  const detail = host.detail(jobId)!;
  return { ...g, host, detail, jobId, store };
}

describe('this tab donates to its own jobs (shared job runner over the page glue)', () => {
  it('runs a job on the loopback and a remote donor, both counted', async () => {
    const r = await runJob(
      4,
      { replicas: 2, quorum: 2, adaptive: false, spotCheckRate: 0, probationSpotCheckRate: 0 },
      () => 2,
    );
    expect(r.selfExec.runs).toBe(4);
    expect(r.aExec.runs).toBe(4);
    const t2 = r.host.results(r.jobId)?.tasks.find((t) => t.taskId === 't2');
    expect(Array.from(tensorValues(t2!.outputs!.y!) as Float32Array)).toEqual([4, 5]);
    const view = r.detail;
    expect(view.state).toBe('completed');
    expect(view.tasks.map((t) => t.state)).toEqual([
      'verified',
      'verified',
      'verified',
      'verified',
    ]);
    expect(view.donors.map((d) => [d.id, d.results]).sort()).toEqual([
      ['A', 4],
      ['me', 4],
    ]);
    expect(view.throughput.at(-1)?.[1]).toBe(4);
    expect(view.tasks.every((t) => t.replicas >= 2)).toBe(true);
    expect((await r.store.loadSnapshot(r.jobId))?.job.state).toBe('completed');
    await r.host.close();
  });

  it('a paused tab (capacity 0) gets no tasks; the grid does the work', async () => {
    const r = await runJob(
      3,
      { replicas: 1, quorum: 1, spotCheckRate: 0, probationSpotCheckRate: 0 },
      () => 0,
    );
    expect(r.detail.state).toBe('completed');
    expect(r.selfExec.runs).toBe(0);
    expect(r.aExec.runs).toBe(3);
    await r.host.close();
  });
});

/**
 * The task and blob protocols end to end over real WebRTC: a submitter holds
 * a model; two donors run tasks with a fake executor, the second donor fetching
 * the model from the submitter and the first donor (swarm).
 */
import {
  type Backend,
  createBlobExchange,
  createDonorAgent,
  createMemoryBlobCache,
  createMemorySignalHub,
  createTaskClient,
  type Executor,
  type PeerLink,
  tensorFrom,
  tensorValues,
} from '@peergrid/shared';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createNodePeerPool,
  type NodePeerPool,
  nodeNow,
  nodeSha256,
  nodeTimers,
} from '../../src/transport/node-peer-pool.ts';
import { createNodeWrtc } from '../../src/transport/node-wrtc.ts';

/** Adds 1 to every float32 of feed `x`, as output `y`. */
const plusOne: Executor = {
  concurrency: 2,
  backends: async () => ['cpu'] as Backend[],
  close: async () => {},
  async run(req) {
    const x = req.feeds.x!;
    const y = Float32Array.from(tensorValues(x) as Float32Array, (v) => v + 1);
    return { outputs: { y: tensorFrom('float32', x.dims, y) }, backend: 'cpu', computeMs: 1 };
  },
};

describe('donor agent over real WebRTC', () => {
  const pools: NodePeerPool[] = [];
  const nativeP = createNodeWrtc('ndc');
  afterAll(async () => {
    for (const p of pools) await p.shutdown();
    await (await nativeP).shutdown();
  });

  it('runs tasks on two donors; the model travels by hash, also donor to donor', async () => {
    const native = await nativeP;
    const hub = createMemorySignalHub();
    const blobs = (uploadBytesPerSec?: number) =>
      createBlobExchange({
        cache: createMemoryBlobCache(),
        sha256: nodeSha256,
        now: nodeNow,
        timers: nodeTimers,
        ...(uploadBytesPerSec ? { uploadBytesPerSec } : {}),
      });
    const mk = async (id: string) => {
      const p = await createNodePeerPool({ signal: hub.channel(id), native });
      pools.push(p);
      return p;
    };
    const submitter = await mk('s');
    const subBlobs = blobs();
    submitter.on('link-open', (l) => subBlobs.attach(l));
    const model = new Uint8Array(3_000_000).map((_, i) => (i * 13) & 0xff);
    const modelHash = await subBlobs.add(model);

    const donors = await Promise.all(['d1', 'd2'].map(mk));
    const donorBlobs = donors.map(() => blobs());
    donors.forEach((pool, i) => {
      const agent = createDonorAgent({
        executor: plusOne,
        blobs: donorBlobs[i]!,
        sha256: nodeSha256,
      });
      pool.on('link-open', (l: PeerLink) => {
        donorBlobs[i]!.attach(l);
        agent.attach(l);
      });
    });
    // Donors know each other (as in a grid where donors also serve models).
    await donors[0]!.connect('d2');

    const client = createTaskClient({ timers: nodeTimers });
    const x = tensorFrom('float32', [4], new Float32Array([1, 2, 3, 4]));
    const run = async (donor: string, leaseId: string) =>
      client.assign(await submitter.connect(donor), {
        leaseId,
        jobId: 'job',
        modelHash,
        modelBytes: model.byteLength,
        feeds: { x },
        deadlineMs: 10_000,
      });
    const first = await run('d1', 'lease-1');
    expect(first.type).toBe('reported');
    if (first.type === 'reported') {
      expect([...(tensorValues(first.report.outputs.y!) as Float32Array)]).toEqual([2, 3, 4, 5]);
    }
    // d1 now holds the model and has announced it to d2.
    await expect.poll(() => donorBlobs[1]!.holders(modelHash)).toContain('d1');
    const second = await run('d2', 'lease-2');
    expect(second.type).toBe('reported');
    if (first.type === 'reported' && second.type === 'reported') {
      expect(second.report.digest).toBe(first.report.digest);
    }
    expect(donorBlobs[0]!.stats().uploadedBytes).toBeGreaterThan(0);
    expect(
      donorBlobs[0]!.stats().uploadedBytes + subBlobs.stats().uploadedBytes,
    ).toBeGreaterThanOrEqual(2 * model.byteLength);
  });
});

import type { PeerMessage } from '@peergrid/shared';
import { createBlobExchange, createMemoryBlobCache, tensorFrom } from '@peergrid/shared';
import { describe, expect, it } from 'vitest';
import { localWorkerHandle } from '../src/exec/run-inbox.ts';
import { createWorkerPool } from '../src/exec/worker-pool.ts';
import { createDonorSide } from '../src/grid/donor-side.ts';
import { createLoopback } from '../src/grid/loopback.ts';
import { now, sha256, timers } from '../src/grid/platform.ts';

/** Lets the in-memory links and workers deliver. */
const settle = () => new Promise((r) => setTimeout(r, 30));

describe('donor side over the page’s worker pool', () => {
  it('takes leases early, lists only started ones, drops cancelled ones and hands the rest back on pause', async () => {
    const gates: (() => void)[] = [];
    const ran: number[] = [];
    const pool = createWorkerPool({
      size: 1,
      init: { wasmPaths: '', threads: 1, gpu: false },
      timers,
      spawn: () =>
        localWorkerHandle({
          init: async () => ({ backends: ['wasm'], threads: 1 }),
          run: (req) => {
            ran.push(new Float32Array(req.feeds.x?.data.slice().buffer as ArrayBuffer)[0] ?? -1);
            return new Promise((res) =>
              gates.push(() =>
                res({ ok: true, value: { outputs: {}, backend: 'wasm', computeMs: 1 } }),
              ),
            );
          },
          inspect: async () => ({ ok: false, error: { code: 'x', message: 'x' } }),
          warm: async () => ({ ok: true, value: undefined }),
        }),
    });
    const blobs = createBlobExchange({ cache: createMemoryBlobCache(), sha256, now, timers });
    const model = new Uint8Array([1, 2, 3]);
    const modelHash = await blobs.add(model);
    const side = createDonorSide({ executor: pool, blobs, sha256, now, onChange: () => {} });
    const loop = createLoopback('me', now, timers);
    side.attach(loop.donor);
    const heard: PeerMessage[] = [];
    loop.submitter.onMessage((m) => heard.push(m));

    for (let i = 0; i < 5; i++)
      await loop.submitter.send({
        type: 'assign',
        leaseId: `lease-${i}`,
        jobId: 'j',
        modelHash,
        modelBytes: model.byteLength,
        feeds: { x: tensorFrom('float32', [1], new Float32Array([i])) },
        deadlineMs: 10_000,
      });
    await settle();
    // All five went to the pool (its prefetch is 7), one worker runs the first.
    expect(pool.state()).toMatchObject({ busy: 1, queued: 4 });
    expect(side.counters().current.map((c) => c.leaseId)).toEqual(['lease-0']);

    // Cancelled while it waits in the worker: it never runs, and nothing answers it.
    await loop.submitter.send({ type: 'cancel', leaseId: 'lease-2' });
    await settle();
    gates.shift()?.();
    await settle();
    gates.shift()?.();
    await settle();
    expect(ran).toEqual([0, 1, 3]);
    expect(side.counters().current.map((c) => c.leaseId)).toEqual(['lease-3']);

    // Paused: the lease the pool holds and has not started goes back; the running one finishes.
    side.setPaused(true, 'test');
    await settle();
    const errors = heard.flatMap((m) => (m.type === 'error' ? [[m.leaseId, m.error.code]] : []));
    expect(errors).toEqual([['lease-4', 'paused']]);
    gates.shift()?.();
    await settle();
    const results = heard.flatMap((m) => (m.type === 'result' ? [m.leaseId] : []));
    expect(results).toEqual(['lease-0', 'lease-1', 'lease-3']);
    expect(ran).toEqual([0, 1, 3]);
    // Taken back is not failed.
    expect(side.counters()).toMatchObject({ current: [], tasksDone: 3, tasksFailed: 0 });
    side.close();
    loop.submitter.close();
    loop.donor.close();
    await pool.close();
  });
});

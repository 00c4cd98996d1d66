import type { ExecResult, Executor } from '@peergrid/shared';
import { createBlobExchange, createMemoryBlobCache, tensorFrom } from '@peergrid/shared';
import { describe, expect, it } from 'vitest';
import { createDonorSide } from '../src/grid/donor-side.ts';
import { createLoopback } from '../src/grid/loopback.ts';
import { now, sha256, timers } from '../src/grid/platform.ts';

/** Lets the in-memory links deliver. */
const settle = () => new Promise((r) => setTimeout(r, 20));

describe('donor side: current work', () => {
  it('shows a running lease by its lease id and model, as the assign named no task', async () => {
    let release!: (r: ExecResult) => void;
    const held: Executor = {
      concurrency: 1,
      backends: async () => ['wasm'],
      close: async () => {},
      run: () => new Promise((r) => (release = r)),
    };
    const blobs = createBlobExchange({ cache: createMemoryBlobCache(), sha256, now, timers });
    const model = new Uint8Array([1, 2, 3]);
    const modelHash = await blobs.add(model);
    const side = createDonorSide({ executor: held, blobs, sha256, now, onChange: () => {} });
    const loop = createLoopback('me', now, timers);
    side.attach(loop.donor);

    await loop.submitter.send({
      type: 'assign',
      leaseId: 'Zx9_-aQ3bT0kLm2NpR7sUw',
      jobId: 'j',
      modelHash,
      modelBytes: model.byteLength,
      feeds: { x: tensorFrom('float32', [1], new Float32Array([1])) },
      deadlineMs: 10_000,
    });
    await settle();
    expect(side.counters().current).toEqual([
      {
        leaseId: 'Zx9_-aQ3bT0kLm2NpR7sUw',
        modelHash,
        jobId: 'j',
        from: 'me',
        startedAt: expect.any(Number),
      },
    ]);

    release({ outputs: {}, computeMs: 1, backend: 'wasm' });
    await settle();
    expect(side.counters()).toMatchObject({ current: [], tasksDone: 1 });
    side.close();
    loop.submitter.close();
    loop.donor.close();
  });
});

import { createMemoryJobStore, decodeNpy, type ResultRecord, tensorFrom } from '@peergrid/shared';
import { describe, expect, it } from 'vitest';
import { stackedNpyBlob } from '../src/lib/results-npy.ts';

const record = (
  i: number,
  y = tensorFrom('int32', [1, 2], new Int32Array([i, -i])),
): ResultRecord => ({
  jobId: 'j',
  taskId: `t${i}`,
  outputs: { y },
  backers: ['d'],
  bound: 0,
  backend: 'wasm',
  acceptedAt: 0,
});

async function storeWith(records: ResultRecord[]) {
  const store = createMemoryJobStore();
  await store.commit('j', {
    job: { jobId: 'j', state: 'running', seq: 0, updatedAt: 0 },
    tasks: [],
    results: records,
    removedResults: [],
    events: [],
  });
  return store;
}

describe('one output of every task as one .npy, read a page at a time', () => {
  it('stacks in the job order across pages', async () => {
    const store = await storeWith(Array.from({ length: 7 }, (_, i) => record(i)).reverse());
    const r = await stackedNpyBlob({
      store,
      jobId: 'j',
      count: 7,
      idAt: (i) => `t${i}`,
      output: 'y',
      pageSize: 3,
    });
    if (!r.ok) throw new Error(r.error);
    const npy = decodeNpy(new Uint8Array(await r.blob.arrayBuffer()));
    if (!npy.ok) throw new Error(npy.error);
    expect(npy.tensor.dims).toEqual([7, 2]);
    expect([...new Int32Array(npy.tensor.data.slice().buffer)]).toEqual(
      Array.from({ length: 7 }, (_, i) => [i, i === 0 ? 0 : -i]).flat(),
    );
  });

  it('says which task has no stored output, and which does not stack', async () => {
    const missing = await storeWith([record(0), record(2)]);
    expect(
      await stackedNpyBlob({
        store: missing,
        jobId: 'j',
        count: 3,
        idAt: (i) => `t${i}`,
        output: 'y',
      }),
    ).toEqual({ ok: false, error: 'task t1 has no stored output y yet' });
    const odd = await storeWith([
      record(0),
      record(1, tensorFrom('float32', [1, 2], new Float32Array(2))),
    ]);
    const r = await stackedNpyBlob({
      store: odd,
      jobId: 'j',
      count: 2,
      idAt: (i) => `t${i}`,
      output: 'y',
    });
    expect(r.ok ? '' : r.error).toMatch(
      /^task t1's y is float32\[1×2\], not like the first task's int32\[1×2\]/,
    );
  });
});

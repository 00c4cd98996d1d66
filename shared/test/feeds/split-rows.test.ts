import { describe, expect, it } from 'vitest';
import { splitRows } from '../../src/feeds/split-rows.ts';
import { tensorFrom, tensorValues } from '../../src/tensor.ts';

const ids = tensorFrom(
  'int64',
  [5, 2],
  BigInt64Array.from([0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n]),
);
const mask = tensorFrom(
  'int64',
  [5, 2],
  BigInt64Array.from([1n, 1n, 1n, 0n, 1n, 1n, 0n, 0n, 1n, 0n]),
);

describe('splitRows', () => {
  it('splits named tensors by rows together, the last task shorter', () => {
    const r = splitRows({ ids, mask }, 2);
    if (!r.ok) throw new Error(r.error);
    expect(r.tasks.map((t) => t.id)).toEqual(['rows-0', 'rows-2', 'rows-4']);
    expect(r.tasks.map((t) => t.feeds.ids?.dims)).toEqual([
      [2, 2],
      [2, 2],
      [1, 2],
    ]);
    const second = r.tasks[1]!.feeds;
    expect([...(tensorValues(second.ids!) as BigInt64Array)]).toEqual([4n, 5n, 6n, 7n]);
    expect([...(tensorValues(second.mask!) as BigInt64Array)]).toEqual([1n, 1n, 0n, 0n]);
  });

  it('keeps the whole tensors as one task without a batch or with one past the rows', () => {
    const scalar = tensorFrom('float32', [], new Float32Array([0.5]));
    expect(splitRows({ ids, scalar })).toEqual({
      ok: true,
      tasks: [{ id: 'all', feeds: { ids, scalar } }],
    });
    expect(splitRows({ ids, mask }, 5)).toEqual({
      ok: true,
      tasks: [{ id: 'all', feeds: { ids, mask } }],
    });
  });

  it('refuses row counts that differ, scalars, and bad batches', () => {
    const err = (r: ReturnType<typeof splitRows>) => (r.ok ? 'ok' : r.error);
    const short = tensorFrom('int64', [4, 2], new BigInt64Array(8));
    expect(err(splitRows({ ids, mask: short }, 2))).toBe(
      'split by rows together, the tensors need the same row count; got ids 5, mask 4',
    );
    expect(err(splitRows({ ids, s: tensorFrom('int8', [], new Int8Array(1)) }, 2))).toBe(
      '"s" is a scalar: no rows to split',
    );
    expect(err(splitRows({ ids }, 0))).toMatch(/integer >= 1/);
    expect(err(splitRows({}, 2))).toMatch(/no tensors/);
  });
});

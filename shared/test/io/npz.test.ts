import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/io/npy.ts';
import { decodeNpz, encodeNpz } from '../../src/io/npz.ts';
import { tensorFrom, tensorValues } from '../../src/tensor.ts';
import { NUMPY_SAVEZ, NUMPY_SAVEZ_COMPRESSED } from '../fixtures/numpy-npz.ts';

describe('.npz archives', () => {
  it('reads what np.savez and np.savez_compressed wrote', () => {
    for (const bytes of [NUMPY_SAVEZ, NUMPY_SAVEZ_COMPRESSED]) {
      const r = decodeNpz(bytes);
      if (!r.ok) throw new Error(r.error);
      expect(Object.keys(r.tensors).sort()).toEqual(['attention_mask', 'input_ids', 'scale']);
      const { input_ids, attention_mask, scale } = r.tensors;
      expect(input_ids?.dtype).toBe('int64');
      expect(input_ids?.dims).toEqual([2, 3]);
      expect([...(tensorValues(input_ids!) as BigInt64Array)]).toEqual([
        101n,
        7592n,
        102n,
        101n,
        2088n,
        102n,
      ]);
      expect([...(tensorValues(attention_mask!) as BigInt64Array)]).toEqual([
        1n,
        1n,
        1n,
        1n,
        1n,
        0n,
      ]);
      expect(scale?.dtype).toBe('float32');
      expect(scale?.dims).toEqual([]);
      expect([...(tensorValues(scale!) as Float32Array)]).toEqual([0.5]);
    }
  });

  it('round-trips, stored or deflated, and gives the same bytes for the same tensors', () => {
    const tensors = {
      x: tensorFrom('float32', [2, 2], new Float32Array([1, 2, 3, 4])),
      'nested/name': tensorFrom('bool', [3], new Uint8Array([1, 0, 1])),
    };
    for (const compress of [false, true]) {
      const bytes = encodeNpz(tensors, { compress });
      expect(decodeNpz(bytes)).toEqual({ ok: true, tensors });
      expect(encodeNpz(tensors, { compress })).toEqual(bytes);
    }
    const big = { z: tensorFrom('float32', [1000], new Float32Array(1000)) };
    expect(encodeNpz(big, { compress: true }).length).toBeLessThan(encodeNpz(big).length / 10);
  });

  it('says why an archive cannot be used', () => {
    const err = (bytes: Uint8Array, maxBytes?: number) => {
      const r = decodeNpz(bytes, maxBytes === undefined ? {} : { maxBytes });
      return r.ok ? 'ok' : r.error;
    };
    expect(err(encodeNpy(tensorFrom('uint8', [1], new Uint8Array([1]))))).toMatch(/not a zip/);
    expect(err(NUMPY_SAVEZ.slice(0, 100))).toMatch(/not a readable .npz/);
    expect(err(zipSync({ 'a.npy': new Uint8Array([1, 2, 3]) }))).toMatch(/^a\.npy: not a \.npy/);
    expect(
      err(
        zipSync({
          'a.npy': encodeNpy(tensorFrom('int8', [1], new Int8Array(1))),
          'notes.txt': new Uint8Array(1),
        }),
      ),
    ).toMatch(/entries must be .npy arrays, got notes\.txt/);
    expect(err(zipSync({}))).toMatch(/holds no arrays/);
    expect(err(NUMPY_SAVEZ, 100)).toMatch(/exceed 100 bytes/);
  });
});

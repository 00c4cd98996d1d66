import { tensorValues } from '@peergrid/shared';
import { describe, expect, it } from 'vitest';
import { parseJsonTensors, tensorMapToJson } from '../src/lib/tensor-json.ts';

describe('parseJsonTensors', () => {
  it('reads a nested array as float32 with inferred dims', () => {
    const r = parseJsonTensors('[[1, 2, 3], [4, 5, 6]]', 'x');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const x = r.tensors.x!;
    expect(x.dtype).toBe('float32');
    expect(x.dims).toEqual([2, 3]);
    expect(Array.from(tensorValues(x) as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
  });
  it('reads named tensors with explicit dtype and dims', () => {
    const r = parseJsonTensors(
      '{"ids": {"dtype": "int64", "dims": [1, 3], "data": [5, 6, 7]}, "mask": [[1, 1, 0]]}',
      'x',
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(Object.keys(r.tensors).sort()).toEqual(['ids', 'mask']);
    expect(Array.from(tensorValues(r.tensors.ids!) as BigInt64Array)).toEqual([5n, 6n, 7n]);
  });
  it('round-trips through tensorMapToJson', () => {
    const r = parseJsonTensors('{"a": {"dtype": "int32", "dims": [2], "data": [-1, 9]}}', 'x');
    if (!r.ok) throw new Error(r.error);
    const again = parseJsonTensors(JSON.stringify(tensorMapToJson(r.tensors)), 'x');
    expect(again).toEqual(r);
  });
  it('explains bad input', () => {
    const bad = (text: string) => {
      const r = parseJsonTensors(text, 'x');
      return r.ok ? 'ok' : r.error;
    };
    expect(bad('{nope')).toMatch(/not valid JSON/);
    expect(bad('[[1, 2], [3]]')).toMatch(/ragged/);
    expect(bad('{"a": {"dtype": "complex64", "data": [1]}}')).toMatch(
      /input "a": unknown dtype complex64/,
    );
    expect(bad('{"a": {"dims": [2, 2], "data": [1, 2, 3]}}')).toMatch(/need 4 values, got 3/);
    expect(bad('{"a": ["x"]}')).toMatch(/input "a"/);
  });
});

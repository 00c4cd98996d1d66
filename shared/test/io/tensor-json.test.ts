import { describe, expect, it } from 'vitest';
import { parseJsonTensor, parseJsonTensors } from '../../src/io/tensor-json.ts';
import { tensorValues } from '../../src/tensor.ts';

const values = (r: ReturnType<typeof parseJsonTensor>) => {
  if (!r.ok) throw new Error(r.error);
  return { dtype: r.tensor.dtype, dims: r.tensor.dims, data: [...tensorValues(r.tensor)] };
};
const error = (r: { ok: boolean; error?: string }) => (r.ok ? 'ok' : r.error);

describe('JSON tensors', () => {
  it('reads nested arrays, numbers and {dtype, dims|shape, data}', () => {
    expect(
      values(
        parseJsonTensor([
          [1, 2],
          [3, 4],
        ]),
      ),
    ).toEqual({ dtype: 'float32', dims: [2, 2], data: [1, 2, 3, 4] });
    expect(values(parseJsonTensor(0.5))).toEqual({ dtype: 'float32', dims: [], data: [0.5] });
    expect(values(parseJsonTensor({ dtype: 'int64', shape: [3], data: [1, -2, 3] }))).toEqual({
      dtype: 'int64',
      dims: [3],
      data: [1n, -2n, 3n],
    });
    expect(values(parseJsonTensor({ dtype: 'int64', data: 7 }))).toEqual({
      dtype: 'int64',
      dims: [],
      data: [7n],
    });
    expect(values(parseJsonTensor({ dtype: 'bool', data: [[true, false]] }))).toEqual({
      dtype: 'bool',
      dims: [1, 2],
      data: [1, 0],
    });
  });

  it('refuses what does not fit the dtype or the dims, saying why', () => {
    expect(error(parseJsonTensor({ dims: [2, 2], data: [[1, 2], [3]] }))).toMatch(
      /need 4 values, got 3/,
    );
    expect(error(parseJsonTensor({ data: [[1, 2], [3]] }))).toMatch(/ragged/);
    expect(error(parseJsonTensor({ dims: [2], data: [1, 'x'] }))).toMatch(
      /must be numbers, got "x"/,
    );
    expect(error(parseJsonTensor({ dtype: 'complex', dims: [1], data: [1] }))).toMatch(
      /unknown dtype complex/,
    );
    expect(error(parseJsonTensor({ dtype: 'int64', data: [1.5] }))).toMatch(
      /int64 values must be integers/,
    );
    expect(error(parseJsonTensor({ dtype: 'uint8', data: [256] }))).toMatch(/\[0, 255\], got 256/);
    expect(error(parseJsonTensor('nope'))).toMatch(/expected a tensor/);
  });

  it('tells a tensor object from tensors by name, naming the bad one', () => {
    const one = parseJsonTensors('{"dtype": "int32", "data": [1, 2]}', 'x');
    expect(one.ok && one.named).toBe(false);
    expect(one.ok && Object.keys(one.tensors)).toEqual(['x']);
    // "data" is an input name here: the object has keys a tensor object does not.
    const named = parseJsonTensors(
      '{"data": [1, 2], "mask": {"dtype": "int64", "data": [1, 0]}}',
      'x',
    );
    expect(named.ok && named.named).toBe(true);
    expect(named.ok && Object.keys(named.tensors)).toEqual(['data', 'mask']);
    expect(
      error(parseJsonTensors('{"a": [1], "b": {"dtype": "f16", "data": [1]}, "c": "x"}', 'x')),
    ).toBe('input "b": unknown dtype f16; input "c": expected a tensor {dtype, dims, data}');
    expect(error(parseJsonTensors('{nope', 'x'))).toMatch(/not valid JSON/);
    expect(error(parseJsonTensors('{}', 'x'))).toMatch(/no tensors/);
  });
});

import { describe, expect, it } from 'vitest';
import {
  argmaxLabels,
  canonicalBytes,
  outputsDigest,
  outputsMatch,
  tensorsMatch,
} from '../../src/job/compare.ts';
import type { CompareRule } from '../../src/job/spec.ts';
import { tensorFrom } from '../../src/tensor.ts';
import { i32, sha256 } from './helpers.ts';

const f32 = (dims: number[], v: number[]) => tensorFrom('float32', dims, new Float32Array(v));
const exact: CompareRule = { kind: 'exact' };
const tol: CompareRule = { kind: 'tolerance', abs: 1e-6, rel: 1e-5 };

describe('comparison rules', () => {
  it('exact compares canonical bytes: dtype, dims and data', () => {
    expect(tensorsMatch(f32([2], [1, 2]), f32([2], [1, 2]), exact)).toBe(true);
    expect(tensorsMatch(f32([2], [1, 2]), f32([2], [1, 2.0000002]), exact)).toBe(false);
    expect(tensorsMatch(f32([2], [1, 2]), f32([1, 2], [1, 2]), exact)).toBe(false);
    expect(tensorsMatch(f32([1], [0]), f32([1], [-0]), exact)).toBe(false); // bitwise: -0 differs
    expect(tensorsMatch(f32([1], [1]), i32(1065353216), exact)).toBe(false); // same bytes, other dtype
    expect(canonicalBytes(f32([1], [1]))).not.toEqual(canonicalBytes(i32(1065353216)));
  });

  it('tolerance: abs + rel, -0 equals 0, NaN never matches, shape and dtype must match', () => {
    expect(tensorsMatch(f32([2], [1, 1000]), f32([2], [1 + 5e-7, 1000.005]), tol)).toBe(true);
    expect(tensorsMatch(f32([1], [1000]), f32([1], [1000.1]), tol)).toBe(false);
    expect(tensorsMatch(f32([1], [-0]), f32([1], [0]), tol)).toBe(true);
    expect(tensorsMatch(f32([1], [Number.NaN]), f32([1], [Number.NaN]), tol)).toBe(false);
    expect(
      tensorsMatch(f32([1], [Number.POSITIVE_INFINITY]), f32([1], [Number.POSITIVE_INFINITY]), tol),
    ).toBe(true);
    expect(tensorsMatch(f32([2], [1, 2]), f32([2, 1], [1, 2]), tol)).toBe(false);
    const f64 = tensorFrom('float64', [2], new Float64Array([1, 2]));
    expect(tensorsMatch(f32([2], [1, 2]), f64, tol)).toBe(false);
  });

  it('empty tensors match only tensors of the same empty shape', () => {
    for (const rule of [exact, tol, { kind: 'argmax', axis: -1 } as const]) {
      expect(tensorsMatch(f32([0, 3], []), f32([0, 3], []), rule)).toBe(true);
      expect(tensorsMatch(f32([0, 3], []), f32([3, 0], []), rule)).toBe(false);
    }
  });

  it('argmax compares labels along an axis; NaN slices never match', () => {
    const a = f32([2, 3], [0.1, 0.7, 0.2, 0.9, 0.05, 0.05]);
    const b = f32([2, 3], [0.2, 0.6, 0.2, 0.8, 0.1, 0.1]);
    expect(Array.from(argmaxLabels(a, 1)!)).toEqual([1, 0]);
    expect(Array.from(argmaxLabels(a, 0)!)).toEqual([1, 0, 0]);
    expect(tensorsMatch(a, b, { kind: 'argmax', axis: -1 })).toBe(true);
    const c = f32([2, 3], [0.8, 0.1, 0.1, 0.9, 0.05, 0.05]);
    expect(tensorsMatch(a, c, { kind: 'argmax', axis: 1 })).toBe(false);
    const n = f32([1, 2], [Number.NaN, 1]);
    expect(tensorsMatch(n, n, { kind: 'argmax', axis: 1 })).toBe(false);
    expect(tensorsMatch(a, a, { kind: 'argmax', axis: 5 })).toBe(false);
  });

  it('output maps need the same names; digests follow the bytes', async () => {
    expect(outputsMatch({ y: i32(1) }, { y: i32(1) }, exact)).toBe(true);
    expect(outputsMatch({ y: i32(1) }, { z: i32(1) }, exact)).toBe(false);
    expect(outputsMatch({ y: i32(1) }, { y: i32(1), z: i32(2) }, exact)).toBe(false);
    const d1 = await outputsDigest({ a: i32(1), b: i32(2) }, sha256);
    expect(await outputsDigest({ b: i32(2), a: i32(1) }, sha256)).toBe(d1);
    expect(await outputsDigest({ a: i32(1), b: i32(3) }, sha256)).not.toBe(d1);
  });
});

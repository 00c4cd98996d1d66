import { describe, expect, it } from 'vitest';
import { byteLength, seededRandom, tensorFrom, tensorValues } from '../src/index.ts';

describe('tensor', () => {
  it('copies bytes and refuses a length that does not fit the dims', () => {
    const src = new Float32Array([1, 2, 3, 4]);
    const t = tensorFrom('float32', [2, 2], src);
    src[0] = 9;
    expect(Array.from(tensorValues(t) as Float32Array)).toEqual([1, 2, 3, 4]);
    expect(byteLength('int64', [3, 2])).toBe(48);
    expect(() => tensorFrom('float32', [3], src)).toThrow(/needs 12 bytes/);
  });

  it('reads unaligned bytes by copying', () => {
    const buf = new Uint8Array(9);
    new DataView(buf.buffer).setFloat32(1, 2.5, true);
    const t = { dtype: 'float32' as const, dims: [2], data: buf.subarray(1, 9) };
    expect((tensorValues(t) as Float32Array)[0]).toBe(2.5);
  });

  it('seeded random repeats its stream', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import {
  bytesPerElement,
  CHUNK_BYTES,
  CHUNK_DATA_BYTES,
  chunkFrame,
  createReassembler,
  DTYPES,
  decodeFrame,
  encodeFrame,
  FRAME_VERSION,
  seededRandom,
  type Tensor,
  tensorFrom,
} from '../../src/index.ts';

function randomBytes(n: number, seed = 1): Uint8Array {
  const r = seededRandom(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * 256);
  return out;
}

function reassemble(frame: Uint8Array, id = 7): Uint8Array {
  const r = createReassembler(() => 0);
  const chunks = chunkFrame(frame, id);
  for (const c of chunks) expect(c.byteLength).toBeLessThanOrEqual(CHUNK_BYTES);
  for (const c of chunks.slice(0, -1)) expect(r.push(c)).toEqual({ kind: 'partial' });
  const last = r.push(chunks.at(-1)!);
  if (last.kind !== 'frame') throw new Error(`expected a frame, got ${JSON.stringify(last)}`);
  return last.frame;
}

describe('frame codec', () => {
  it('round-trips every dtype, empty tensors and the header', () => {
    const tensors: Tensor[] = DTYPES.map((dtype, i) =>
      tensorFrom(dtype, [2, 3], randomBytes(6 * bytesPerElement(dtype), i)),
    );
    tensors.push(tensorFrom('float32', [0, 5], new Float32Array(0)));
    tensors.push(tensorFrom('int64', [], new BigInt64Array([-5n])));
    const header = { type: 'x', nested: { a: [1, 'two'] } };
    const decoded = decodeFrame(reassemble(encodeFrame(header, tensors)));
    expect(decoded?.header).toEqual(header);
    expect(decoded?.tensors.length).toBe(tensors.length);
    decoded?.tensors.forEach((t, i) => {
      expect(t.dtype).toBe(tensors[i]!.dtype);
      expect(t.dims).toEqual(tensors[i]!.dims);
      expect([...t.data]).toEqual([...tensors[i]!.data]);
      expect(t.data.byteLength).toBe(t.data.buffer.byteLength);
    });
  });

  it('reassembles frames of exactly 1, 2 and 3 full chunks, and one byte more', () => {
    for (const n of [
      CHUNK_DATA_BYTES,
      2 * CHUNK_DATA_BYTES,
      3 * CHUNK_DATA_BYTES,
      3 * CHUNK_DATA_BYTES + 1,
      1,
      0,
    ]) {
      const frame = randomBytes(n, n);
      const chunks = chunkFrame(frame, 1);
      expect(chunks.length).toBe(Math.max(1, Math.ceil(n / CHUNK_DATA_BYTES)));
      if (n > 0 && n % CHUNK_DATA_BYTES === 0) expect(chunks.at(-1)!.byteLength).toBe(CHUNK_BYTES);
      expect([...reassemble(frame)]).toEqual([...frame]);
    }
  });

  it('carries a multi-megabyte tensor through many chunks', () => {
    const values = new Float32Array(1_500_000).map((_, i) => i * 0.5);
    const t = tensorFrom('float32', [1000, 1500], values);
    const frame = encodeFrame({ big: true }, [t]);
    expect(chunkFrame(frame, 3).length).toBeGreaterThan(300);
    const back = decodeFrame(reassemble(frame))!;
    expect(back.tensors[0]!.dims).toEqual([1000, 1500]);
    const got = new Float32Array(back.tensors[0]!.data.buffer);
    expect(got.length).toBe(values.length);
    expect(got.every((v, i) => v === values[i])).toBe(true);
  });

  it('keeps interleaved frames apart by message id', () => {
    const r = createReassembler(() => 0);
    const f1 = randomBytes(3 * CHUNK_DATA_BYTES, 1);
    const f2 = randomBytes(2 * CHUNK_DATA_BYTES + 5, 2);
    const c1 = chunkFrame(f1, 1);
    const c2 = chunkFrame(f2, 2);
    const out: Uint8Array[] = [];
    for (const c of [c1[0], c2[0], c1[1], c2[1], c2[2], c1[2]]) {
      const res = r.push(c!);
      if (res.kind === 'frame') out.push(res.frame);
    }
    expect(out.map((f) => f.byteLength)).toEqual([f2.byteLength, f1.byteLength]);
    expect([...out[1]!]).toEqual([...f1]);
  });
});

describe('malformed input is dropped with a reason', () => {
  it('rejects truncated, garbage and inconsistent frames', () => {
    const good = encodeFrame({ a: 1 }, [tensorFrom('int32', [2], new Int32Array([1, 2]))]);
    expect(decodeFrame(good)).not.toBeNull();
    expect(decodeFrame(good.subarray(0, good.byteLength - 1))).toBeNull();
    expect(decodeFrame(good.subarray(0, 3))).toBeNull();
    expect(decodeFrame(new Uint8Array([FRAME_VERSION, 255, 255, 255, 255]))).toBeNull();
    expect(decodeFrame(randomBytes(100))).toBeNull();
    const wrongVersion = good.slice();
    wrongVersion[0] = 9;
    expect(decodeFrame(wrongVersion)).toBeNull();
    // A tensor table whose byte range does not match dtype × dims.
    const lying = encodeFrame({ a: 1 }, [{ dtype: 'int32', dims: [3], data: new Uint8Array(8) }]);
    expect(decodeFrame(lying)).toBeNull();
    // Garbage msgpack header.
    const bad = good.slice();
    bad.fill(0xc1, 5, 9);
    expect(decodeFrame(bad)).toBeNull();
  });

  it('drops chunks that are short, out of order, lying about sizes, or over limits', () => {
    const now = { t: 0 };
    const r = createReassembler(() => now.t, {
      maxFrameBytes: 4 * CHUNK_DATA_BYTES,
      maxPartialFrames: 2,
      reassemblyTimeoutMs: 1000,
    });
    expect(r.push(new Uint8Array(5))).toEqual({ kind: 'drop', reason: 'bad-chunk' });
    const c = chunkFrame(randomBytes(3 * CHUNK_DATA_BYTES), 1);
    expect(r.push(c[1]!)).toEqual({ kind: 'drop', reason: 'out-of-order' });
    expect(r.push(c[0]!).kind).toBe('partial');
    expect(r.push(c[2]!)).toEqual({ kind: 'drop', reason: 'out-of-order' });
    expect(r.partials).toBe(0);
    const truncated = chunkFrame(randomBytes(2 * CHUNK_DATA_BYTES), 2)[0]!.subarray(0, 100);
    expect(r.push(truncated)).toEqual({ kind: 'drop', reason: 'bad-chunk' });
    const tooBig = chunkFrame(randomBytes(5 * CHUNK_DATA_BYTES), 3);
    expect(r.push(tooBig[0]!)).toEqual({ kind: 'drop', reason: 'frame-too-large' });
    for (const id of [10, 11])
      expect(r.push(chunkFrame(randomBytes(2 * CHUNK_DATA_BYTES), id)[0]!).kind).toBe('partial');
    expect(r.push(chunkFrame(randomBytes(2 * CHUNK_DATA_BYTES), 12)[0]!)).toEqual({
      kind: 'drop',
      reason: 'too-many-partials',
    });
    now.t = 999;
    expect(r.expire()).toBe(0);
    now.t = 1000;
    expect(r.expire()).toBe(2);
    expect(r.partials).toBe(0);
  });
});

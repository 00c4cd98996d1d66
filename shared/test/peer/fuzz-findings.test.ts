/**
 * Regressions found by the peer-protocol fuzzer (signaling/fuzz/peer-fuzz.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  CHUNK_DATA_BYTES,
  CHUNK_HEADER_BYTES,
  createReassembler,
  DEFAULT_MAX_FRAME_BYTES,
} from '../../src/index.ts';

const arrayBufferBytes = () =>
  (
    globalThis as unknown as { process: { memoryUsage(): { arrayBuffers: number } } }
  ).process.memoryUsage().arrayBuffers;

/** The first chunk of a frame that claims `total` bytes. */
function firstChunk(id: number, total: number): Uint8Array {
  const c = new Uint8Array(CHUNK_HEADER_BYTES + CHUNK_DATA_BYTES);
  const v = new DataView(c.buffer);
  c[0] = 0xc1;
  v.setUint32(1, id, true);
  v.setUint32(5, 0, true);
  v.setUint32(9, Math.ceil(total / CHUNK_DATA_BYTES), true);
  v.setUint32(13, total, true);
  return c;
}

describe('reassembly memory follows the bytes received', () => {
  it('eight 16 KiB chunks claiming 64 MiB frames do not allocate 512 MiB', () => {
    const r = createReassembler(() => 0);
    const before = arrayBufferBytes();
    const chunks = Array.from({ length: 8 }, (_, i) => firstChunk(i + 1, DEFAULT_MAX_FRAME_BYTES));
    for (const c of chunks) expect(r.push(c)).toEqual({ kind: 'partial' });
    expect(r.partials).toBe(8);
    // Before the fix each partial held a zeroed buffer of the claimed size.
    expect(arrayBufferBytes() - before).toBeLessThan(8 * 1024 * 1024);
  });
});

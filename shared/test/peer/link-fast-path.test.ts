import { describe, expect, it } from 'vitest';
import {
  CHUNK_BYTES,
  CHUNK_DATA_BYTES,
  chunkFrame,
  createMemoryPeerPair,
  createPeerLink,
  createReassembler,
  iterateFrameChunks,
  joinFrameParts,
  type PeerMessage,
  PREALLOCATE_FRAME_BYTES,
  singleChunk,
  splitMessage,
  tensorFrom,
} from '../../src/index.ts';
import { createVirtualTime, flush, linkPair } from './helpers.ts';

describe('one-chunk frames', () => {
  it('singleChunk gives the same bytes as chunkFrame and refuses bigger frames', () => {
    for (const size of [0, 1, 100, CHUNK_DATA_BYTES]) {
      const frame = new Uint8Array(size).map((_, i) => (i * 7) % 256);
      const one = singleChunk(frame, 0xdeadbeef);
      expect(one).toEqual(chunkFrame(frame, 0xdeadbeef)[0]);
      const r = createReassembler(() => 0).push(one);
      expect(r.kind === 'frame' && r.frame).toEqual(frame);
    }
    expect(() => singleChunk(new Uint8Array(CHUNK_DATA_BYTES + 1), 1)).toThrow(RangeError);
  });

  it('a small frame sent right after a multi-chunk one arrives after it', async () => {
    const vt = createVirtualTime();
    const [a, b] = linkPair(vt);
    const got: string[] = [];
    b.onMessage((m) => got.push(m.type === 'ack' || m.type === 'result' ? m.leaseId : m.type));
    const big = tensorFrom('uint8', [100_000], new Uint8Array(100_000));
    const sends = [
      a.send({ type: 'ack', leaseId: 'first' }),
      a.send({
        type: 'result',
        leaseId: 'big',
        outputs: { big },
        digest: 'f'.repeat(64),
        computeMs: 1,
        backend: 'cpu',
      }),
      a.send({ type: 'ack', leaseId: 'after' }),
      a.send({ type: 'ack', leaseId: 'last' }),
    ];
    await Promise.all(sends);
    await flush(50);
    expect(got).toEqual(['first', 'big', 'after', 'last']);
    // Queue drained: small frames go straight out again, still in order.
    await a.send({ type: 'ack', leaseId: 'again' });
    await flush(10);
    expect(got.at(-1)).toBe('again');
    a.close();
    b.close();
  });

  it('a channel that refuses a burst closes the link with send-failed', async () => {
    const vt = createVirtualTime();
    const [pa] = createMemoryPeerPair();
    const a = createPeerLink({ peer: pa, remoteId: 'b', now: vt.now, timers: vt.timers });
    const reasons: string[] = [];
    a.onClose((r) => reasons.push(`${r.code}: ${r.message}`));
    (pa as unknown as { send(b: Uint8Array): void }).send = () => {
      throw new Error('channel gone');
    };
    const msg: PeerMessage = { type: 'ack', leaseId: 'x' };
    await a.send(msg);
    await flush();
    expect(a.closed).toBe(true);
    expect(reasons).toEqual([expect.stringMatching(/^send-failed: .*channel gone/)]);
    await expect(a.send(msg)).rejects.toMatchObject({ code: 'link-closed' });
  });
});

describe('bursts', () => {
  it('packs the one-chunk frames of a burst into few messages, in order (version 1 peers)', async () => {
    const vt = createVirtualTime();
    const [pa, pb] = createMemoryPeerPair();
    const sent: number[] = [];
    const send = pa.send.bind(pa);
    pa.send = (chunk: Uint8Array) => {
      sent.push(chunk.byteLength);
      send(chunk);
    };
    const v1 = { now: vt.now, timers: vt.timers, protocol: 1 };
    const a = createPeerLink({ ...v1, peer: pa, remoteId: 'b' });
    const b = createPeerLink({ ...v1, peer: pb, remoteId: 'a' });
    const got: string[] = [];
    b.onMessage((m) => got.push(m.type === 'ack' ? m.leaseId : m.type));
    const ids = Array.from({ length: 500 }, (_, i) => `lease-${i}`);
    for (const leaseId of ids) void a.send({ type: 'ack', leaseId });
    await flush(50);
    expect(got).toEqual(ids);
    // ~40-byte frames: hundreds per 16 KiB message, never a message over 16 KiB.
    expect(sent.length).toBeGreaterThan(1);
    expect(sent.length).toBeLessThan(10);
    expect(Math.max(...sent)).toBeLessThanOrEqual(CHUNK_BYTES);
    expect(a.stats().framesSent).toBe(500);
    expect(b.stats().framesReceived).toBe(500);
    a.close();
    b.close();
  });

  it('a message whose last chunk runs past its end is dropped and penalized', () => {
    const frames = [new Uint8Array(10).fill(1), new Uint8Array(20).fill(2)];
    const joined = new Uint8Array([...singleChunk(frames[0]!, 1), ...singleChunk(frames[1]!, 2)]);
    const parts = splitMessage(joined);
    expect(parts?.map((p) => p.byteLength)).toEqual([27, 37]);
    expect(splitMessage(joined.subarray(0, joined.byteLength - 1))).toBeNull();
    expect(splitMessage(new Uint8Array(0))).toBeNull();
    const bad = joined.slice();
    bad[27] = 0; // second chunk's magic
    expect(splitMessage(bad)).toBeNull();
  });

  it('chunks frame parts exactly as the joined frame, without joining them', () => {
    const bytes = (n: number, seed: number) => {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = (i * 13 + seed) % 256;
      return b;
    };
    for (const sizes of [
      [10],
      [10, CHUNK_DATA_BYTES],
      [CHUNK_DATA_BYTES - 3, 3, 7, 40_000],
      [5, 0, 1],
    ]) {
      const parts = sizes.map((n, k) => bytes(n, k));
      const f = { parts, byteLength: sizes.reduce((a, b) => a + b, 0) };
      const joined = joinFrameParts(f);
      expect(joined.byteLength).toBe(f.byteLength);
      expect([...iterateFrameChunks(f, 77)]).toEqual(chunkFrame(joined, 77));
    }
  });

  it('reassembles frames on both sides of the preallocation limit', () => {
    for (const size of [3 * CHUNK_DATA_BYTES + 5, PREALLOCATE_FRAME_BYTES + 1, 5_000_000]) {
      const frame = new Uint8Array(size);
      for (let i = 0; i < size; i++) frame[i] = (i * 31) % 251;
      const r = createReassembler(() => 0);
      const results = chunkFrame(frame, 9).map((c) => r.push(c));
      const last = results.at(-1);
      expect(results.slice(0, -1).every((x) => x.kind === 'partial')).toBe(true);
      const got = last?.kind === 'frame' ? last.frame : new Uint8Array(0);
      expect(got.byteLength).toBe(size);
      // Element by element (toEqual on a megabyte is slow): the first difference, if any.
      let differs = -1;
      for (let i = 0; i < size && differs < 0; i++) if (got[i] !== frame[i]) differs = i;
      expect(differs).toBe(-1);
      expect(r.partials).toBe(0);
    }
  });
});

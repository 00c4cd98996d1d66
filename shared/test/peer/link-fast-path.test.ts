import { describe, expect, it } from 'vitest';
import {
  CHUNK_DATA_BYTES,
  chunkFrame,
  createMemoryPeerPair,
  createPeerLink,
  createReassembler,
  type PeerMessage,
  singleChunk,
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

  it('a send that the peer refuses rejects', async () => {
    const vt = createVirtualTime();
    const [pa] = createMemoryPeerPair();
    const a = createPeerLink({ peer: pa, remoteId: 'b', now: vt.now, timers: vt.timers });
    (pa as unknown as { send(b: Uint8Array): void }).send = () => {
      throw new Error('channel gone');
    };
    const msg: PeerMessage = { type: 'ack', leaseId: 'x' };
    await expect(a.send(msg)).rejects.toThrow('channel gone');
    a.close();
  });
});

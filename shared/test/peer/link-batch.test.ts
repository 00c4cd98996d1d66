import { describe, expect, it } from 'vitest';
import {
  createMemoryPeerPair,
  createPeerLink,
  decodePeerMessages,
  encodeBatchParts,
  encodeFrame,
  joinFrameParts,
  PEER_MESSAGE_LIMITS,
  PEER_PROTOCOL,
  type PeerMessage,
  singleChunk,
  tensorFrom,
} from '../../src/index.ts';
import { createVirtualTime, flush, linkPair } from './helpers.ts';

const ack = (leaseId: string): PeerMessage => ({ type: 'ack', leaseId });
const result = (leaseId: string, n: number): PeerMessage => ({
  type: 'result',
  leaseId,
  outputs: { y: tensorFrom('float32', [n], new Float32Array(n).fill(n)) },
  computeMs: 1,
  backend: 'cpu',
});
const label = (m: PeerMessage) =>
  m.type === 'ack' || m.type === 'result' ? `${m.type}:${m.leaseId}` : m.type;

async function hellos(vt: ReturnType<typeof createVirtualTime>) {
  const [a, b] = linkPair(vt);
  await flush();
  return [a, b] as const;
}

describe('batch frames between peers of version 2 and later', () => {
  it('sends what one task sends as one frame, in order, big messages in between in their place', async () => {
    const vt = createVirtualTime();
    const [a, b] = await hellos(vt);
    expect(a.remoteProtocol).toBe(PEER_PROTOCOL);
    const got: string[] = [];
    b.onMessage((m) => got.push(label(m)));
    const sent: PeerMessage[] = [];
    for (let i = 0; i < 300; i++) sent.push(i % 3 === 0 ? result(`r${i}`, 8) : ack(`a${i}`));
    sent.splice(150, 0, result('big', 16_384)); // 64 KiB: its own frame, after the first 150
    for (const m of sent) void a.send(m);
    await flush(50);
    expect(got).toEqual(sent.map(label));
    const s = a.stats();
    expect(s.messagesSent).toBe(301);
    expect(s.batchesSent).toBe(2); // the 150 before the big result, the 150 after
    expect(s.framesSent).toBe(3);
    expect(b.stats().messagesReceived).toBe(301);
    expect(b.stats().penalties).toBe(0);
    a.close();
    b.close();
  });

  it('a batch is cut at its size cap, not held back', async () => {
    const vt = createVirtualTime();
    const [a, b] = await hellos(vt);
    let n = 0;
    b.onMessage(() => n++);
    // 4 KiB results: a 64 KiB batch holds 16 of them.
    for (let i = 0; i < 40; i++) void a.send(result(`r${i}`, 1024));
    expect(a.stats().batchesSent).toBe(2); // cut twice before the deferred flush
    await flush(50);
    expect(n).toBe(40);
    expect(a.stats().batchesSent).toBe(3);
    a.close();
    b.close();
  });
});

describe('mixed versions', () => {
  it('a version 2 peer sends a version 1 peer (no hello) only single frames, and digests stay optional', async () => {
    const vt = createVirtualTime();
    const [a, b] = linkPair(vt, {}, { protocol: 1 });
    await flush();
    expect(a.remoteProtocol).toBe(1);
    expect(b.remoteProtocol).toBe(PEER_PROTOCOL); // it heard our hello, and speaks 1 all the same
    const got: string[] = [];
    b.onMessage((m) => got.push(label(m)));
    const back: string[] = [];
    a.onMessage((m) => back.push(label(m)));
    for (let i = 0; i < 50; i++) void a.send(ack(`a${i}`));
    for (let i = 0; i < 50; i++) void b.send(ack(`b${i}`));
    await flush(50);
    expect(got).toHaveLength(50);
    expect(back).toHaveLength(50);
    expect(a.stats().batchesSent).toBe(0);
    expect(b.stats().batchesSent).toBe(0);
    expect(a.stats().framesSent).toBe(50);
    a.close();
    b.close();
  });

  it('messages of a newer type inside a batch are skipped and counted, the rest delivered', () => {
    const future = { type: 'gossip', about: 'x' } as unknown as PeerMessage;
    const frame = joinFrameParts(encodeBatchParts([ack('l1'), future, ack('l2')]));
    const d = decodePeerMessages(frame);
    expect(d?.messages.map(label)).toEqual(['ack:l1', 'ack:l2']);
    expect(d?.unknown).toBe(1);
  });
});

describe('malformed batches are refused whole', () => {
  const x = tensorFrom('uint8', [2], new Uint8Array([1, 2]));
  const res = (t: number) => ({
    type: 'result',
    leaseId: 'r',
    outputs: { y: t },
    computeMs: 0,
    backend: 'cpu',
  });

  it.each([
    ['a nested batch', { type: 'batch', messages: [{ type: 'batch', messages: [] }] }, []],
    ['an empty batch', { type: 'batch', messages: [] }, []],
    ['a known type that does not parse', { type: 'batch', messages: [{ type: 'ack' }] }, []],
    ['one tensor used by two messages', { type: 'batch', messages: [res(0), res(0)] }, [x]],
    ['a tensor no message uses', { type: 'batch', messages: [{ type: 'ack', leaseId: 'a' }] }, [x]],
    [
      'more messages than the limit',
      {
        type: 'batch',
        messages: Array.from({ length: PEER_MESSAGE_LIMITS.maxBatch + 1 }, () => ({
          type: 'ack',
          leaseId: 'a',
        })),
      },
      [],
    ],
  ])('%s', (_name, header, tensors) => {
    expect(decodePeerMessages(encodeFrame(header, tensors))).toBeNull();
  });

  it('a link penalizes the sender of a malformed batch and delivers nothing of it', async () => {
    const vt = createVirtualTime();
    const [pa, pb] = createMemoryPeerPair();
    const b = createPeerLink({ peer: pb, remoteId: 'a', now: vt.now, timers: vt.timers });
    const got: PeerMessage[] = [];
    b.onMessage((m) => got.push(m));
    // A well-formed ack and a broken one in one batch, as a hostile peer would send it.
    const bad = encodeFrame({
      type: 'batch',
      messages: [{ type: 'ack', leaseId: 'ok' }, { type: 'ack' }],
    });
    pa.send(singleChunk(bad, 1));
    pa.send(singleChunk(joinFrameParts(encodeBatchParts([ack('x'), ack('y')])), 2));
    await flush(10);
    expect(b.stats().penalties).toBe(1);
    expect(got.map(label)).toEqual(['ack:x', 'ack:y']);
    b.close();
  });
});

describe('heartbeat load with a limit (version 2) and without (version 1)', () => {
  const ping = (load: unknown) => encodeFrame({ type: 'ping', seq: 1, load });
  it('parses both, and refuses a malformed limit', () => {
    const v1 = decodePeerMessages(ping({ running: 1, queued: 2, capacity: 1 }));
    expect(v1?.messages[0]).toEqual({
      type: 'ping',
      seq: 1,
      load: { running: 1, queued: 2, capacity: 1 },
    });
    const v2 = decodePeerMessages(ping({ running: 1, queued: 2, capacity: 1, limit: 65 }));
    expect(v2?.messages[0]).toMatchObject({ load: { limit: 65 } });
    expect(decodePeerMessages(ping({ running: 1, queued: 2, capacity: 1, limit: -1 }))).toBeNull();
    expect(decodePeerMessages(ping({ running: 1, queued: 2, capacity: 1, limit: 'x' }))).toBeNull();
  });

  it('a link reports the limit its load source gives, and the other end sees it', async () => {
    const vt = createVirtualTime();
    const [a, b] = linkPair(vt, { heartbeatIntervalMs: 10 });
    b.setLoadSource(() => ({ running: 0, queued: 0, capacity: 2, limit: 130 }));
    await vt.advance(50);
    expect(a.remoteLoad?.limit).toBe(130);
    a.close();
    b.close();
  });
});

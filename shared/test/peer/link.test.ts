import { describe, expect, it } from 'vitest';
import {
  chunkFrame,
  createMemoryPeerPair,
  createPeerLink,
  encodeFrame,
  type PeerMessage,
  tensorFrom,
  type WireError,
} from '../../src/index.ts';
import { createVirtualTime, flush, linkPair } from './helpers.ts';

/** A link that closes after 3 malformed messages; `pb` sends it raw bytes; `got` hears it. */
function strictLink() {
  const vt = createVirtualTime();
  const [pa, pb] = createMemoryPeerPair();
  const a = createPeerLink({
    peer: pa,
    remoteId: 'b',
    now: vt.now,
    timers: vt.timers,
    penaltyThreshold: 3,
  });
  const got: PeerMessage[] = [];
  a.onMessage((m) => got.push(m));
  return { a, pb, got };
}

describe('PeerLink over an in-memory pair', () => {
  it('delivers typed messages with tensors, in order', async () => {
    const vt = createVirtualTime();
    const [a, b] = linkPair(vt);
    const got: PeerMessage[] = [];
    b.onMessage((m) => got.push(m));
    const big = tensorFrom(
      'uint8',
      [200_000],
      new Uint8Array(200_000).map((_, i) => i % 251),
    );
    await a.send({ type: 'ack', leaseId: 'one' });
    await a.send({
      type: 'result',
      leaseId: 'two',
      outputs: { big },
      digest: 'f'.repeat(64),
      computeMs: 1,
      backend: 'cpu',
    });
    await flush(50);
    expect(got.map((m) => m.type)).toEqual(['ack', 'result']);
    const r = got[1];
    expect(r?.type === 'result' && r.outputs.big?.data.every((v, i) => v === i % 251)).toBe(true);
    a.close();
    b.close();
  });

  it('answers pings, measures rtt and carries load', async () => {
    const vt = createVirtualTime();
    const [a, b] = linkPair(vt);
    b.setLoadSource(() => ({ running: 2, queued: 1, capacity: 4 }));
    await vt.advance(1000);
    expect(a.rttMs).toBe(0);
    expect(a.remoteLoad).toEqual({ running: 2, queued: 1, capacity: 4 });
    a.close();
    b.close();
  });

  it('closes with peer-timeout when the other side goes silent', async () => {
    const vt = createVirtualTime();
    const [pa, pb] = createMemoryPeerPair();
    const a = createPeerLink({
      peer: pa,
      remoteId: 'b',
      now: vt.now,
      timers: vt.timers,
      heartbeatIntervalMs: 500,
      deadAfterMs: 2000,
    });
    // pb never answers: no link on its side.
    pb.on('data', () => {});
    const reasons: WireError[] = [];
    a.onClose((r) => reasons.push(r));
    await vt.advance(2000);
    expect(a.closed).toBe(false);
    await vt.advance(600);
    expect(a.closed).toBe(true);
    expect(reasons.map((r) => r.code)).toEqual(['peer-timeout']);
    await expect(a.send({ type: 'ack', leaseId: 'x' })).rejects.toMatchObject({
      code: 'link-closed',
    });
  });

  it('drops malformed input, counts it, and disconnects past the threshold', async () => {
    const { a, pb, got } = strictLink();
    const reasons: string[] = [];
    a.onClose((r) => reasons.push(r.code));
    pb.send(new Uint8Array([1, 2, 3])); // not a chunk
    pb.send(chunkFrame(encodeFrame({ type: 'ack' }), 1)[0]!); // not a valid message
    pb.send(chunkFrame(encodeFrame({ type: 'ack', leaseId: 'ok' }), 2)[0]!);
    await flush();
    expect(got).toEqual([{ type: 'ack', leaseId: 'ok' }]);
    expect(a.stats().penalties).toBe(2);
    expect(a.closed).toBe(false);
    pb.send(new Uint8Array(20)); // third strike
    await flush();
    expect(a.closed).toBe(true);
    expect(reasons).toEqual(['peer-misbehaving']);
  });

  it("ignores a newer peer's message types without counting them against it", async () => {
    const { a, pb, got } = strictLink();
    for (let i = 0; i < 10; i++)
      pb.send(chunkFrame(encodeFrame({ type: 'from-the-future', n: i }), i + 1)[0]!);
    pb.send(chunkFrame(encodeFrame({ type: 'ack', leaseId: 'ok' }), 20)[0]!);
    await flush();
    expect(got).toEqual([{ type: 'ack', leaseId: 'ok' }]);
    expect(a.stats()).toMatchObject({ ignored: 10, penalties: 0 });
    expect(a.closed).toBe(false);
    // A known type with bad fields is still malformed.
    pb.send(chunkFrame(encodeFrame({ type: 'pieces', hash: 'x' }), 21)[0]!);
    await flush();
    expect(a.stats().penalties).toBe(1);
    a.close();
  });

  it('refuses to send a frame over maxFrameBytes', async () => {
    const vt = createVirtualTime();
    const [a, b] = linkPair(vt, { reassembly: { maxFrameBytes: 10_000 } });
    const data = new Uint8Array(20_000);
    await expect(
      a.send({ type: 'chunk', hash: 'a'.repeat(64), offset: 0, total: 20_000, data }),
    ).rejects.toMatchObject({ code: 'too-large' });
    expect(a.closed).toBe(false);
    a.close();
    b.close();
  });

  it('a throwing handler does not stop other handlers or the link', async () => {
    const vt = createVirtualTime();
    const [a, b] = linkPair(vt);
    const got: string[] = [];
    b.onMessage(() => {
      throw new Error('handler bug');
    });
    b.onMessage((m) => got.push(m.type));
    await a.send({ type: 'cancel', leaseId: 'l' });
    await a.send({ type: 'ack', leaseId: 'l' });
    await flush();
    expect(got).toEqual(['cancel', 'ack']);
    expect(b.closed).toBe(false);
    a.close();
    await flush();
    expect(b.closed).toBe(true);
  });
});

describe('PeerLink backpressure', () => {
  it('waits while bufferedAmount is over the high-water mark', async () => {
    const vt = createVirtualTime();
    const sent: Uint8Array[] = [];
    const channel = { bufferedAmount: 0 };
    const peer = {
      _channel: channel,
      send(d: Uint8Array) {
        sent.push(d);
        channel.bufferedAmount += d.byteLength;
      },
      signal() {},
      destroy() {},
      on() {},
    };
    const link = createPeerLink({
      peer,
      remoteId: 'x',
      now: vt.now,
      timers: vt.timers,
      highWaterBytes: 64 * 1024,
      pollMs: 5,
      heartbeatIntervalMs: 60_000,
      deadAfterMs: 120_000,
    });
    const big = tensorFrom('uint8', [300_000], new Uint8Array(300_000));
    let done = false;
    void link
      .send({ type: 'chunk', hash: 'a'.repeat(64), offset: 0, total: 300_000, data: big.data })
      .then(() => {
        done = true;
      });
    await flush();
    const before = sent.length;
    expect(channel.bufferedAmount).toBeGreaterThan(64 * 1024);
    await vt.advance(50);
    expect(sent.length).toBe(before); // still blocked: nothing drained
    channel.bufferedAmount = 0;
    await vt.advance(5);
    expect(sent.length).toBeGreaterThan(before);
    for (let i = 0; i < 20 && !done; i++) {
      channel.bufferedAmount = 0;
      await vt.advance(5);
    }
    expect(done).toBe(true);
    link.close();
  });
});

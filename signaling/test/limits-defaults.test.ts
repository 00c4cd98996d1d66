/**
 * Every limit enforced at its documented default (options.ts): a server
 * started without any limit option, and the buses built from DEFAULT_LIMITS.
 */
import type { PeerInfo } from '@peergrid/shared';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryBus, type PeerSink } from '../src/bus.ts';
import { DEFAULT_LIMITS } from '../src/options.ts';
import { createRedisBus } from '../src/redis-bus.ts';
import type { RunningSignalingServer } from '../src/server.ts';
import { caps, joinRaw, openRaw, type RawPeer, startTestServer, until, wsUrl } from './helpers.ts';
import { startRedis } from './redis-process.ts';

it('the documented defaults', () => {
  expect(DEFAULT_LIMITS).toMatchObject({
    maxMessageBytes: 65_536,
    signalPayloadBytes: 16_384,
    messagesPerSecond: 200,
    messageBurst: 1_000,
    peersPerGrid: 1_000,
    gridsPerServer: 10_000,
    joinTimeoutMs: 10_000,
  });
});

describe('a server with default limits', () => {
  let server: RunningSignalingServer;
  let idle: RawPeer;
  let idleOpenedAt = 0;
  beforeAll(async () => {
    server = await startTestServer();
    // Opened first and checked last: the 10 s join timeout runs alongside the other tests.
    idle = await openRaw(wsUrl(server));
    idleOpenedAt = Date.now();
  });
  afterAll(() => server.close());

  /** A text frame of exactly `bytes` bytes that the server answers with a pong. */
  const paddedPing = (bytes: number) => {
    const head = '{"type":"ping","pad":"';
    return `${head}${'p'.repeat(bytes - head.length - 2)}"}`;
  };

  it('maxMessageBytes: a 65 536-byte frame is read, one byte more closes with 1009', async () => {
    const p = await joinRaw(wsUrl(server), 'frames');
    p.send(paddedPing(65_536));
    await p.next('pong');
    p.send(paddedPing(65_537));
    await until(() => p.closeCode === 1009, 3000, '1009 close');
  });

  it('signalPayloadBytes: a 16 384-char payload is relayed, one char more is too-large', async () => {
    const a = await joinRaw(wsUrl(server), 'payload');
    const b = await joinRaw(wsUrl(server), 'payload');
    const data = (n: number) => 's'.repeat(n - 2); // JSON text of a string adds two quotes
    a.send({ type: 'signal', to: b.id, data: data(16_384) });
    expect((await b.next('signal')).data).toBe(data(16_384));
    a.send({ type: 'signal', to: b.id, data: data(16_385) });
    expect(await a.next('error')).toMatchObject({ code: 'too-large' });
    a.ws.close();
    b.ws.close();
  });

  it('messagesPerSecond/messageBurst: a burst of 1 000 passes, the rest is refused once, then the flooder is cut', async () => {
    const p = await joinRaw(wsUrl(server), 'burst');
    const sentAt = Date.now();
    for (let i = 0; i < 1_300; i++) p.send({ type: 'ping' });
    await until(() => p.closeCode !== null, 5000, 'flooder closed');
    const seconds = (Date.now() - sentAt) / 1000;
    const pongs = p.got.filter((m) => m.type === 'pong').length;
    expect(pongs).toBeGreaterThanOrEqual(1_000);
    // The bucket refills at 200/s while the burst is read (slower on a loaded
    // machine): at most that many more; the flood as a whole is refused.
    expect(pongs).toBeLessThanOrEqual(1_000 + Math.ceil(200 * seconds));
    expect(pongs).toBeLessThan(1_300);
    // One answer to the flood, one saying why the socket is closed.
    expect(p.got.filter((m) => m.code === 'rate-limited').map((m) => m.message)).toEqual([
      'over 200 messages/s',
      'too many rejected messages',
    ]);
    expect(p.closeCode).toBe(1008);
  });

  it('joinTimeoutMs: a socket that never joins is closed after 10 s, not before', async () => {
    expect(await idle.next('error', 15_000)).toMatchObject({ code: 'join-timeout' });
    expect(Date.now() - idleOpenedAt).toBeGreaterThanOrEqual(9_900);
    await until(() => idle.closeCode === 4008, 2000, 'timeout close');
  }, 20_000);
});

const sink = (): PeerSink => ({ send: () => {}, replaced: () => {} });
const B32 = 'abcdefghijklmnopqrstuvwxyz234567';
const fakePeer = (n: number): PeerInfo => ({
  id: [...n.toString(32).padStart(32, '0')].map((c) => B32[parseInt(c, 32)]).join(''),
  publicKey: 'k'.repeat(43),
  capabilities: caps(),
});

describe('bus limits at their defaults', () => {
  it('memory bus: 1 000 peers per grid and 10 000 grids per server', async () => {
    const bus = createMemoryBus(DEFAULT_LIMITS);
    for (let i = 0; i < 1_000; i++)
      expect((await bus.join('big', fakePeer(i), sink())).ok).toBe(true);
    expect(await bus.join('big', fakePeer(1_000), sink())).toEqual({
      ok: false,
      code: 'grid-full',
    });
    for (let g = 1; g < 10_000; g++) bus.join(`g${g}`, fakePeer(2_000 + g), sink());
    expect(bus.stats().grids).toBe(10_000);
    expect(await bus.join('one-more', fakePeer(99_999), sink())).toEqual({
      ok: false,
      code: 'server-full',
    });
  });

  it('redis bus: 1 000 peers per grid counted over two instances', async () => {
    const redis = await startRedis();
    const keyPrefix = `lim${Date.now()}:`;
    const [x, y] = await Promise.all([
      createRedisBus({ url: redis.url, limits: DEFAULT_LIMITS, keyPrefix }),
      createRedisBus({ url: redis.url, limits: DEFAULT_LIMITS, keyPrefix }),
    ]);
    try {
      // 998 members owned by a third instance, written as its join script would.
      const filler = new Redis(redis.url);
      const fields = Array.from({ length: 998 }, (_, i) => {
        const p = fakePeer(i);
        return [p.id, `other.${i} ${JSON.stringify(p)}`];
      });
      await filler.hset(`${keyPrefix}grid:big`, Object.fromEntries(fields));
      await filler.quit();
      expect(await x.join('big', fakePeer(998), sink())).toMatchObject({ ok: true });
      const last = await y.join('big', fakePeer(999), sink());
      expect(last.ok && last.peers.length).toBe(999);
      expect(await x.join('big', fakePeer(1_000), sink())).toEqual({
        ok: false,
        code: 'grid-full',
      });
      expect(await y.join('big', fakePeer(1_001), sink())).toEqual({
        ok: false,
        code: 'grid-full',
      });
      expect(x.stats().peers + y.stats().peers).toBe(2);
    } finally {
      await Promise.all([x.close(), y.close()]);
      await redis.stop();
    }
  });
});

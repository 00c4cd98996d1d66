import { describe, expect, it, vi } from 'vitest';
import type { Capabilities } from '../src/contracts.ts';
import { createIdentity, type SubtleLike, verifyChallenge } from '../src/identity.ts';
import { seededRandom } from '../src/platform.ts';
import { createSignalingClient, type WebSocketLike } from '../src/signaling/client.ts';

const subtle = (globalThis as unknown as { crypto: { subtle: SubtleLike } }).crypto.subtle;
const caps: Capabilities = {
  runtime: 'browser',
  backends: ['wasm'],
  cores: 4,
  memoryMB: 1024,
  maxConcurrency: 2,
};

/** In-memory sockets and virtual timers: the test plays the server. */
function harness() {
  const sockets: FakeSocket[] = [];
  class FakeSocket implements WebSocketLike {
    sent: Record<string, unknown>[] = [];
    closed = false;
    onopen: ((ev: unknown) => void) | null = null;
    onmessage: ((ev: { data: unknown }) => void) | null = null;
    onclose: ((ev: { code: number; reason: string }) => void) | null = null;
    onerror: ((ev: unknown) => void) | null = null;
    constructor(readonly url: string) {
      sockets.push(this);
    }
    send(data: string) {
      this.sent.push(JSON.parse(data));
    }
    close() {
      this.closed = true;
    }
    deliver(msg: unknown) {
      this.onmessage?.({ data: JSON.stringify(msg) });
    }
  }
  let now = 0;
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let nextId = 1;
  const clock = {
    setTimeout: (fn: () => void, ms: number) => {
      const id = nextId++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout: (h: unknown) => {
      const i = timers.findIndex((t) => t.id === h);
      if (i >= 0) timers.splice(i, 1);
    },
    /** Runs the next timer; returns its delay. */
    fire(): number {
      timers.sort((a, b) => a.at - b.at);
      const t = timers.shift();
      if (!t) throw new Error('no timer');
      const delay = t.at - now;
      now = t.at;
      t.fn();
      return delay;
    },
  };
  return { sockets, FakeSocket, clock, now: () => now };
}

async function joinedClient() {
  const h = harness();
  const identity = await createIdentity(subtle);
  const client = createSignalingClient({
    url: 'ws://x/',
    grid: 'lab',
    identity,
    capabilities: caps,
    WebSocket: h.FakeSocket,
    timers: h.clock,
    random: seededRandom(7),
    now: h.now,
  });
  const serve = async (peers: unknown[]) => {
    const ws = h.sockets.at(-1)!;
    ws.onopen?.({});
    expect(ws.sent.at(-1)).toEqual({ type: 'hello', grid: 'lab' });
    ws.deliver({ type: 'challenge', nonce: `n${h.sockets.length}`, serverId: 'srv' });
    // Signing is a WebCrypto job: on a busy machine it outlasts a few microtask turns.
    await vi.waitFor(() => expect(ws.sent.at(-1)).toMatchObject({ type: 'join' }), {
      timeout: 5000,
      interval: 2,
    });
    const join = ws.sent.at(-1) as { signature: string; publicKey: string };
    const fields = { serverId: 'srv', grid: 'lab', nonce: `n${h.sockets.length}` };
    expect(await verifyChallenge(subtle, join.publicKey, join.signature, fields)).toBe(true);
    ws.deliver({ type: 'joined', id: identity.id, peers, iceServers: [{ urls: ['stun:s:3478'] }] });
    return ws;
  };
  return { h, client, identity, serve };
}

const peer = (id: string, cores = 1) => ({
  id: id.repeat(32),
  publicKey: 'A'.repeat(43),
  capabilities: { ...caps, cores },
});

describe('signaling client', () => {
  it('joins with a valid proof, then reports presence and signals', async () => {
    const { client, serve } = await joinedClient();
    const events: string[] = [];
    client.on('peer-joined', (p) => events.push(`joined ${p.id[0]}`));
    client.on('peer-left', (id) => events.push(`left ${id[0]}`));
    client.on('peer-updated', (p) => events.push(`updated ${p.id[0]}`));
    client.sendSignal(peer('b').id, { sdp: 'early' }); // queued until joined
    const ws = await serve([peer('a')]);
    expect(client.connected).toBe(true);
    expect(client.iceServers).toEqual([{ urls: ['stun:s:3478'] }]);
    expect(ws.sent.at(-1)).toEqual({ type: 'signal', to: peer('b').id, data: { sdp: 'early' } });
    ws.deliver({ type: 'peer-joined', peer: peer('b') });
    ws.deliver({ type: 'peer-updated', peer: peer('a', 8) });
    ws.deliver({ type: 'peer-left', id: peer('b').id });
    ws.deliver({ type: 'peer-left', id: peer('c').id }); // unknown: no event
    ws.deliver({ type: 'peer-joined', peer: { id: 'bogus' } }); // malformed: dropped
    expect(events).toEqual(['joined a', 'joined b', 'updated a', 'left b']);
    const got: unknown[] = [];
    client.onSignal((from, data) => got.push([from[0], data]));
    ws.deliver({ type: 'signal', from: peer('a').id, data: 'x' });
    expect(got).toEqual([['a', 'x']]);
    client.updateCapabilities({ ...caps, cores: 2 });
    expect(ws.sent.at(-1)).toMatchObject({ type: 'update', capabilities: { cores: 2 } });
  });

  it('buffers signals that arrive before any handler, then delivers them in order', async () => {
    const { client, serve } = await joinedClient();
    const ws = await serve([peer('a')]);
    for (const d of ['o1', 'c1', 'c2']) ws.deliver({ type: 'signal', from: peer('a').id, data: d });
    const got: unknown[] = [];
    const off = client.onSignal((from, data) => got.push([from[0], data]));
    expect(got).toEqual([]); // delivered after the subscriber's own setup returns
    ws.deliver({ type: 'signal', from: peer('a').id, data: 'c3' }); // behind the buffered ones
    await Promise.resolve();
    expect(got).toEqual([
      ['a', 'o1'],
      ['a', 'c1'],
      ['a', 'c2'],
      ['a', 'c3'],
    ]);
    ws.deliver({ type: 'signal', from: peer('a').id, data: 'c4' }); // straight through now
    expect(got.at(-1)).toEqual(['a', 'c4']);
    off();
    // With no handler again, signals wait; the buffer keeps the newest maxQueuedSignals (256).
    for (let i = 0; i < 300; i++) ws.deliver({ type: 'signal', from: peer('a').id, data: i });
    const later: unknown[] = [];
    client.onSignal((_from, data) => later.push(data));
    await Promise.resolve();
    expect(later).toHaveLength(256);
    expect(later[0]).toBe(44);
    expect(later.at(-1)).toBe(299);
  });

  it('reconnects with decorrelated jitter and resyncs presence as events', async () => {
    const { h, client, serve } = await joinedClient();
    const ws = await serve([peer('a'), peer('b')]);
    const events: string[] = [];
    client.on('peer-joined', (p) => events.push(`joined ${p.id[0]}`));
    client.on('peer-left', (id) => events.push(`left ${id[0]}`));
    client.on('peer-updated', (p) => events.push(`updated ${p.id[0]}`));
    const delays: number[] = [];
    client.on('reconnecting', (e) => delays.push(e.delayMs));

    ws.onclose?.({ code: 1006, reason: '' });
    expect(client.connected).toBe(false);
    // Three failed attempts, then success.
    for (let i = 0; i < 3; i++) {
      h.clock.fire();
      h.sockets.at(-1)!.onclose?.({ code: 1006, reason: '' });
    }
    expect(delays).toHaveLength(4);
    let prev = 500;
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(500);
      expect(d).toBeLessThanOrEqual(Math.min(30_000, prev * 3) + 1);
      prev = d;
    }
    h.clock.fire();
    await serve([peer('a', 4), peer('c')]);
    expect(events).toEqual(['left b', 'updated a', 'joined c']);
    expect([...client.peers().keys()].map((k) => k[0])).toEqual(['a', 'c']);
  });

  it('drops a silent socket after a missed pong, and stops on fatal errors', async () => {
    const { h, client, serve } = await joinedClient();
    const ws = await serve([]);
    h.clock.fire(); // ping
    expect(ws.sent.at(-1)).toEqual({ type: 'ping' });
    h.clock.fire(); // pong timeout
    expect(ws.closed).toBe(true);
    expect(client.connected).toBe(false);
    h.clock.fire(); // reconnect
    const ws2 = await serve([]);
    const closed: unknown[] = [];
    client.on('closed', (e) => closed.push(e));
    ws2.deliver({ type: 'error', code: 'replaced', message: 'elsewhere' });
    expect(closed).toEqual([{ code: 'replaced', message: 'elsewhere' }]);
    expect(() => h.clock.fire()).toThrow('no timer'); // no reconnect scheduled
  });
});

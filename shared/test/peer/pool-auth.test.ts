import { describe, expect, it } from 'vitest';
import {
  createIdentity,
  createMemorySignalHub,
  createPeerPool,
  type Identity,
  type PeerId,
  type PeerPool,
  type SignalChannel,
  type SimplePeerOptions,
  type SubtleLike,
  type WireError,
} from '../../src/index.ts';
import { createVirtualTime, until } from './helpers.ts';

const subtle = (globalThis as unknown as { crypto: { subtle: SubtleLike } }).crypto.subtle;
type Fn = (...args: never[]) => void;

const fingerprint = (n: number) =>
  Array.from({ length: 32 }, (_, i) =>
    ((n * 7 + i) % 256).toString(16).padStart(2, '0').toUpperCase(),
  ).join(':');
const sdpOf = (token: number, fp: string) =>
  `v=0\r\no=- ${token} 2 IN IP4 127.0.0.1\r\na=fingerprint:sha-256 ${fp}\r\n`;

/**
 * A fake simple-peer whose descriptions carry an SDP with a per-instance DTLS
 * fingerprint; `_pc.remoteDescription` is what `signal()` applied, unless a
 * test makes the "negotiated" one differ.
 */
function fakeSimplePeer(o: { appliedFingerprint?: (applied: string) => string } = {}) {
  const byToken = new Map<number, FakePeer>();
  const made: FakePeer[] = [];
  let next = 1;
  class FakePeer {
    readonly initiator: boolean;
    readonly token = next++;
    readonly fp = fingerprint(this.token);
    destroyed = false;
    other: FakePeer | undefined;
    readonly _channel = null;
    _pc: { remoteDescription: { sdp: string } | null } = { remoteDescription: null };
    readonly policy: string | undefined;
    private readonly ls = new Map<string, Fn[]>();
    constructor(opts: SimplePeerOptions) {
      this.initiator = opts.initiator;
      this.policy = opts.config?.iceTransportPolicy;
      made.push(this);
      byToken.set(this.token, this);
      if (opts.initiator) {
        void Promise.resolve().then(() =>
          this.emit('signal', { type: 'offer', sdp: sdpOf(this.token, this.fp) }),
        );
      }
    }
    on(ev: string, fn: Fn) {
      this.ls.set(ev, [...(this.ls.get(ev) ?? []), fn]);
      return this;
    }
    emit(ev: string, ...args: unknown[]) {
      for (const fn of this.ls.get(ev) ?? []) (fn as (...a: unknown[]) => void)(...args);
    }
    signal(d: { type: string; sdp: string }) {
      if (this.destroyed) throw new Error('destroyed');
      const token = Number(/o=- (\d+)/.exec(d.sdp)?.[1]);
      const applied = o.appliedFingerprint?.(d.sdp) ?? d.sdp;
      this._pc = { remoteDescription: { sdp: applied } };
      const from = byToken.get(token);
      if (!from) return;
      this.other = from;
      if (d.type === 'offer') {
        void Promise.resolve().then(() =>
          this.emit('signal', { type: 'answer', sdp: sdpOf(this.token, this.fp) }),
        );
      } else {
        void Promise.resolve().then(() => {
          this.emit('connect');
          this.other?.emit('connect');
        });
      }
    }
    send(data: Uint8Array) {
      const peer = this.other;
      const copy = data.slice();
      void Promise.resolve().then(() => peer?.destroyed || peer?.emit('data', copy));
    }
    destroy() {
      if (this.destroyed) return;
      this.destroyed = true;
      void Promise.resolve().then(() => this.emit('close'));
    }
  }
  return { SimplePeer: FakePeer, made };
}

/** A channel whose outgoing signals a test may rewrite (a hostile relay). */
function tapped(
  inner: SignalChannel,
  rewrite: (to: PeerId, data: unknown) => unknown,
): SignalChannel {
  return {
    selfId: inner.selfId,
    sendSignal: (to, data) => inner.sendSignal(to, rewrite(to, data)),
    onSignal: (h) => inner.onSignal(h),
  };
}

async function setup(
  fake = fakeSimplePeer(),
  rewriteA: (to: PeerId, data: unknown) => unknown = (_t, d) => d,
) {
  const vt = createVirtualTime();
  const hub = createMemorySignalHub();
  const ids: Identity[] = [await createIdentity(subtle), await createIdentity(subtle)];
  ids.sort((x, y) => (x.id < y.id ? -1 : 1)); // a is the lower id: it initiates
  const [ia, ib] = ids as [Identity, Identity];
  const make = (identity: Identity, signal: SignalChannel, extra = {}): PeerPool =>
    createPeerPool({
      signal,
      SimplePeer: fake.SimplePeer,
      now: vt.now,
      timers: vt.timers,
      auth: { identity, subtle },
      connectAttempts: 1,
      ...extra,
    });
  const a = make(ia, tapped(hub.channel(ia.id), rewriteA));
  const b = make(ib, hub.channel(ib.id));
  const refusedAtB: WireError[] = [];
  b.on('link-refused', (_from, r) => refusedAtB.push(r));
  return { vt, a, b, ia, ib, fake, refusedAtB, make, hub };
}

describe('PeerPool with link authentication (fake simple-peer)', () => {
  it('forms a link when both sides sign, whoever dials', async () => {
    const { a, b, ia, ib } = await setup();
    const link = await b.connect(ia.id);
    expect(link.remoteId).toBe(ia.id);
    await until(() => expect(a.get(ib.id)).toBeDefined());
    expect(a.stats().refused).toEqual({});
  });

  it('refuses an offer whose SDP the relay swapped, and counts it by code', async () => {
    const swap = (_to: PeerId, data: unknown) => {
      const env = data as { d?: { type?: string; sdp?: string } };
      if (env.d?.type !== 'offer') return data;
      return {
        ...env,
        d: {
          ...env.d,
          sdp: env.d.sdp!.replace(
            /fingerprint:sha-256 \S+/,
            `fingerprint:sha-256 ${fingerprint(99)}`,
          ),
        },
      };
    };
    const { a, b, ib, refusedAtB } = await setup(undefined, swap);
    await expect(a.connect(ib.id)).rejects.toMatchObject({ code: 'connect-failed' });
    expect(b.stats().refused).toEqual({ 'fingerprint-mismatch': 1 });
    expect(refusedAtB.map((r) => r.code)).toEqual(['fingerprint-mismatch']);
    expect(b.links()).toEqual([]);
  });

  it('refuses a channel that negotiated another fingerprint than the signed one, before any message', async () => {
    // The description checked on the wire and the one the connection applied differ.
    const fake = fakeSimplePeer({
      appliedFingerprint: (sdp) =>
        sdp.replace(/fingerprint:sha-256 \S+/, `fingerprint:sha-256 ${fingerprint(77)}`),
    });
    const { a, b, ib, refusedAtB } = await setup(fake);
    let opened = 0;
    b.on('link-open', () => opened++);
    await expect(a.connect(ib.id)).rejects.toMatchObject({ code: 'fingerprint-mismatch' });
    await until(() => expect(refusedAtB.map((r) => r.code)).toContain('fingerprint-mismatch'));
    expect(opened).toBe(0);
    expect(a.stats().refused['fingerprint-mismatch']).toBe(1);
  });

  it('refuses an unsigned peer (a pool without auth)', async () => {
    const { b, ib, hub } = await setup();
    const legacy = createPeerPool({
      signal: hub.channel('0' as PeerId), // lower than any base32 id: it initiates
      SimplePeer: fakeSimplePeer().SimplePeer,
      now: () => 0,
      timers: { setTimeout: () => 0, clearTimeout: () => {} },
      connectAttempts: 1,
    });
    await expect(legacy.connect(ib.id)).rejects.toMatchObject({ code: 'connect-failed' });
    expect(b.stats().refused).toEqual({ 'unsigned-description': 1 });
  });

  it('retries relay-only once when a direct attempt times out and a TURN server is configured', async () => {
    const vt = createVirtualTime();
    const hub = createMemorySignalHub();
    const fake = fakeSimplePeer();
    const iceServers = [{ urls: ['turn:127.0.0.1:3478'], username: 'u', credential: 'c' }];
    let dropDirect = true;
    const pool = (id: string) =>
      createPeerPool({
        signal: tapped(hub.channel(id), (_to, d) => {
          // The direct attempt's signals are lost (as if ICE never connected).
          const r = (d as { r?: number }).r;
          return dropDirect && r !== 1 && (d as { pg?: string }).pg === 'sig' ? { pg: 'noop' } : d;
        }),
        SimplePeer: fake.SimplePeer,
        now: vt.now,
        timers: vt.timers,
        iceServers,
        connectTimeoutMs: 1000,
      });
    const a = pool('a');
    const b = pool('b');
    const p = a.connect('b');
    await vt.advance(1001);
    const link = await p;
    dropDirect = false;
    expect(link.remoteId).toBe('b');
    expect(a.stats()).toMatchObject({ relayRetries: 1, relayedLinks: 1 });
    expect(b.stats()).toMatchObject({ relayRetries: 0, relayedLinks: 1 });
    expect(fake.made.map((m) => m.policy)).toEqual([undefined, 'relay', 'relay']);
  });

  it('the higher id asks for the relay-only retry, and the lower id dials relay-only', async () => {
    const vt = createVirtualTime();
    const hub = createMemorySignalHub();
    const fake = fakeSimplePeer();
    const iceServers = [{ urls: ['turns:127.0.0.1:5349'], username: 'u', credential: 'c' }];
    const pool = (id: string) =>
      createPeerPool({
        signal: tapped(hub.channel(id), (_to, d) =>
          (d as { r?: number }).r !== 1 && (d as { pg?: string }).pg === 'sig' ? { pg: 'noop' } : d,
        ),
        SimplePeer: fake.SimplePeer,
        now: vt.now,
        timers: vt.timers,
        iceServers,
        connectTimeoutMs: 1000,
      });
    const a = pool('a');
    const b = pool('b');
    const p = b.connect('a');
    await vt.advance(1001);
    expect((await p).remoteId).toBe('a');
    expect(b.stats()).toMatchObject({ relayRetries: 1, relayedLinks: 1 });
    expect(a.stats()).toMatchObject({ relayRetries: 0, relayedLinks: 1 });
  });

  it('gives up without a relay retry when no TURN server is configured', async () => {
    const vt = createVirtualTime();
    const hub = createMemorySignalHub();
    const fake = fakeSimplePeer();
    const a = createPeerPool({
      signal: tapped(hub.channel('a'), () => ({ pg: 'noop' })),
      SimplePeer: fake.SimplePeer,
      now: vt.now,
      timers: vt.timers,
      iceServers: [{ urls: ['stun:127.0.0.1:3478'] }],
      connectTimeoutMs: 1000,
    });
    const p = a.connect('b');
    const outcome = expect(p).rejects.toMatchObject({ code: 'connect-timeout' });
    await vt.advance(1001);
    await outcome;
    expect(a.stats().relayRetries).toBe(0);
  });
});

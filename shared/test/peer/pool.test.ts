import { describe, expect, it } from 'vitest';
import {
  createMemorySignalHub,
  createPeerPool,
  type PeerPool,
  type SimplePeerOptions,
} from '../../src/index.ts';
import { createVirtualTime, flush } from './helpers.ts';

type Fn = (...args: never[]) => void;

/** A fake simple-peer: offers carry a token that pairs the two instances; data flows in memory. */
function fakeSimplePeer(behaviour: { failNext?: number } = {}) {
  const byToken = new Map<number, FakePeer>();
  const made: FakePeer[] = [];
  let nextToken = 1;
  class FakePeer {
    readonly initiator: boolean;
    destroyed = false;
    other: FakePeer | undefined;
    readonly _channel = null;
    private readonly ls = new Map<string, Fn[]>();
    constructor(opts: SimplePeerOptions) {
      this.initiator = opts.initiator;
      made.push(this);
      if (opts.initiator) {
        const token = nextToken++;
        byToken.set(token, this);
        void Promise.resolve().then(() => this.emit('signal', { type: 'offer', token }));
      }
    }
    on(ev: string, fn: Fn) {
      this.ls.set(ev, [...(this.ls.get(ev) ?? []), fn]);
      return this;
    }
    emit(ev: string, ...args: unknown[]) {
      for (const fn of this.ls.get(ev) ?? []) (fn as (...a: unknown[]) => void)(...args);
    }
    signal(d: { type: string; token: number }) {
      if (this.destroyed) throw new Error('destroyed');
      if (d.type === 'offer') {
        if (behaviour.failNext && behaviour.failNext-- > 0) {
          void Promise.resolve().then(() =>
            this.emit('error', new Error('setRemoteDescription failed')),
          );
          return;
        }
        const init = byToken.get(d.token);
        if (!init) return;
        this.other = init;
        init.other = this;
        void Promise.resolve().then(() => this.emit('signal', { type: 'answer', token: d.token }));
      } else if (d.type === 'answer') {
        void Promise.resolve().then(() => {
          this.emit('connect');
          this.other?.emit('connect');
        });
      }
    }
    send(data: Uint8Array) {
      const o = this.other;
      const copy = data.slice();
      void Promise.resolve().then(() => o?.destroyed || o?.emit('data', copy));
    }
    destroy() {
      if (this.destroyed) return;
      this.destroyed = true;
      void Promise.resolve().then(() => {
        this.emit('close');
        this.other?.destroy();
      });
    }
  }
  return { SimplePeer: FakePeer, made };
}

describe('PeerPool (fake simple-peer, virtual time)', () => {
  function setup(behaviour = {}, extra = {}) {
    const vt = createVirtualTime();
    const hub = createMemorySignalHub();
    const fake = fakeSimplePeer(behaviour);
    const pool = (id: string, more = {}): PeerPool =>
      createPeerPool({
        signal: hub.channel(id),
        SimplePeer: fake.SimplePeer,
        now: vt.now,
        timers: vt.timers,
        connectTimeoutMs: 3000,
        ...extra,
        ...more,
      });
    return { vt, fake, pool };
  }

  it('the lower id initiates, whoever dials', async () => {
    const { fake, pool } = setup();
    const a = pool('a');
    const b = pool('b');
    const link = await b.connect('a'); // b asks a to dial
    expect(link.remoteId).toBe('a');
    expect(fake.made.map((p) => p.initiator)).toEqual([true, false]);
    expect(a.get('b')).toBeDefined();
    expect(await a.connect('b')).toBe(a.get('b'));
    expect(a.created + b.created).toBe(2);
  });

  it('retries a connection whose setup fails, and gives up after connectAttempts', async () => {
    const s1 = setup({ failNext: 1 });
    const a = s1.pool('a');
    s1.pool('b');
    expect((await a.connect('b')).remoteId).toBe('b');
    expect(a.created).toBe(2);
    const s2 = setup({ failNext: 5 }, { connectAttempts: 2 });
    const c = s2.pool('c');
    s2.pool('d');
    await expect(c.connect('d')).rejects.toMatchObject({ code: 'connect-failed' });
    expect(c.created).toBe(2);
  });

  it('stops creating connections past maxCreated', async () => {
    const { pool } = setup();
    const a = pool('a', { maxCreated: 2 });
    pool('b');
    pool('c');
    (await a.connect('b')).close();
    (await a.connect('c')).close();
    await flush(50);
    await expect(a.connect('b')).rejects.toMatchObject({ code: 'connection-budget-spent' });
    expect(a.created).toBe(2);
  });

  it('times out a connection to a peer that never answers', async () => {
    const { vt, pool } = setup();
    const a = pool('a');
    let err: unknown;
    const p = a.connect('zzz').catch((e: unknown) => {
      err = e;
    });
    await vt.advance(2999);
    expect(err).toBeUndefined();
    await vt.advance(1);
    await p;
    expect(err).toMatchObject({ code: 'connect-timeout' });
    expect(a.links()).toEqual([]);
  });

  it('refuses a peer the accept hook rejects, and reports closes', async () => {
    const { pool } = setup();
    const a = pool('a', { accept: (id: string) => id !== 'b' });
    const b = pool('b');
    const c = pool('c');
    await expect(b.connect('a')).rejects.toMatchObject({ code: 'peer-busy' });
    const closed: string[] = [];
    c.on('link-closed', (id, r) => closed.push(`${id}:${r.code}`));
    const ac = await a.connect('c');
    await flush();
    ac.close();
    await flush(50);
    expect(closed).toEqual(['a:peer-closed']);
    a.close();
    await expect(a.connect('c')).rejects.toMatchObject({ code: 'pool-closed' });
  });
});

import { describe, expect, it } from 'vitest';
import {
  createBlobExchange,
  createMemoryBlobCache,
  type PeerLink,
  parsePeerMessage,
  seededRandom,
} from '../../src/index.ts';
import { createVirtualTime, linkPair, sha256 } from './helpers.ts';

const PIECE = 4096;

function blob(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) % 256;
  return b;
}

function exchange(vt: ReturnType<typeof createVirtualTime>, seed: number, extra = {}) {
  return createBlobExchange({
    cache: createMemoryBlobCache(),
    sha256,
    now: vt.now,
    timers: vt.timers,
    pieceBytes: PIECE,
    random: seededRandom(seed),
    ...extra,
  });
}

/** Advances virtual time in small steps until `p` settles (hashing runs in real time). */
async function settle<T>(vt: ReturnType<typeof createVirtualTime>, p: Promise<T>): Promise<T> {
  let done = false;
  p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  for (let i = 0; i < 2000 && !done; i++) await vt.advance(5);
  return p;
}

describe('blob pieces', () => {
  it('a blob spreads between fetchers while it still arrives, each piece leaving the source about once', async () => {
    const vt = createVirtualTime();
    const bytes = blob(64 * PIECE);
    const source = exchange(vt, 1, { uploadBytesPerSec: 64 * PIECE }); // one copy a second
    const hash = await source.add(bytes);
    const fetchers = [2, 3, 4].map((seed) => exchange(vt, seed));
    const toSource: PeerLink[] = [];
    for (const f of fetchers) {
      const [s, back] = linkPair(vt);
      source.attach(s);
      f.attach(back);
      toSource.push(back);
    }
    for (let i = 0; i < fetchers.length; i++)
      for (let j = i + 1; j < fetchers.length; j++) {
        const [a, b] = linkPair(vt);
        fetchers[i]!.attach(a);
        fetchers[j]!.attach(b);
      }
    const got = await settle(
      vt,
      Promise.all(fetchers.map((f, i) => f.fetch(hash, bytes.byteLength, [toSource[i]!]))),
    );
    for (const g of got) expect(await sha256(g)).toBe(hash);
    const fromSource = source.stats().uploadedBytes;
    const fromPeers = fetchers.reduce((n, f) => n + f.stats().uploadedBytes, 0);
    // Every byte arrived once: from the source or from a peer still fetching.
    expect(fromSource + fromPeers).toBe(3 * bytes.byteLength);
    // A star would have sent 3 copies; here peers carried most of the second and third.
    expect(fromSource).toBeLessThan(1.5 * bytes.byteLength);
    expect(fromPeers).toBeGreaterThan(bytes.byteLength);
  });

  it('bad bytes from a peer still fetching fail the hash check, and the blob comes again from complete holders', async () => {
    const vt = createVirtualTime();
    const bytes = blob(16 * PIECE);
    const source = exchange(vt, 1);
    const hash = await source.add(bytes);
    const victim = exchange(vt, 2);
    const [s, toSource] = linkPair(vt);
    source.attach(s);
    victim.attach(toSource);
    // The liar says it holds every piece and serves zeros.
    const [liar, toLiar] = linkPair(vt);
    liar.onMessage((m) => {
      if (m.type === 'want')
        void liar.send({
          type: 'chunk',
          hash,
          offset: m.offset,
          total: bytes.byteLength,
          data: new Uint8Array(m.length),
        });
    });
    victim.attach(toLiar);
    const pieces = Array.from({ length: 16 }, (_, i) => i);
    await liar.send({ type: 'pieces', hash, total: bytes.byteLength, pieces });
    await vt.advance(1);
    const got = await settle(vt, victim.fetch(hash, bytes.byteLength, [toSource]));
    expect(await sha256(got)).toBe(hash);
    expect(victim.stats().rejectedBlobs).toBe(1);
    // The retry took every piece from the source.
    expect(source.stats().uploadedBytes).toBe(bytes.byteLength);
  });

  it('a peer that says it is getting every piece and never does delays the fetch once, not forever', async () => {
    const vt = createVirtualTime();
    const bytes = blob(8 * PIECE);
    const ttl = 200;
    const source = exchange(vt, 1);
    const hash = await source.add(bytes);
    const fetcher = exchange(vt, 2, { pieceTimeoutMs: ttl });
    const [s, toSource] = linkPair(vt);
    source.attach(s);
    fetcher.attach(toSource);
    const [liar, toLiar] = linkPair(vt);
    fetcher.attach(toLiar);
    const pieces = Array.from({ length: 8 }, (_, i) => i);
    const claim = () =>
      liar.send({ type: 'pieces', hash, total: bytes.byteLength, pieces, coming: true });
    await claim();
    await vt.advance(1);
    const fetching = fetcher.fetch(hash, bytes.byteLength, [toSource]);
    // The claims are renewed all along: they must not count again.
    let done = false;
    fetching.then(() => {
      done = true;
    });
    for (let i = 0; i < 400 && !done; i++) {
      if (i % 10 === 0) await claim();
      await vt.advance(5);
    }
    expect(await sha256(await fetching)).toBe(hash);
    expect(vt.now()).toBeGreaterThanOrEqual(ttl);
    expect(source.stats().uploadedBytes).toBe(bytes.byteLength);
  });

  it('asks a source for several pieces at once when fetching alone, one at a time when others fetch too', async () => {
    for (const others of [false, true]) {
      const vt = createVirtualTime();
      const bytes = blob(16 * PIECE);
      const source = exchange(vt, 1, { uploadBytesPerSec: PIECE }); // a piece a second
      const hash = await source.add(bytes);
      const fetcher = exchange(vt, 2);
      const [s, toSource] = linkPair(vt);
      const wants: number[] = [];
      s.onMessage((m) => {
        if (m.type === 'want') wants.push(m.offset);
      });
      source.attach(s);
      fetcher.attach(toSource);
      const [peer, toPeer] = linkPair(vt);
      fetcher.attach(toPeer);
      if (others)
        await peer.send({
          type: 'pieces',
          hash,
          total: bytes.byteLength,
          pieces: [0],
          coming: true,
        });
      await vt.advance(1);
      void fetcher.fetch(hash, bytes.byteLength, [toSource]).catch(() => {});
      await vt.advance(1);
      // The first piece leaves at once (and one more is asked for); the rest wait a second each.
      if (others) expect(wants.length).toBeLessThanOrEqual(2);
      else expect(wants.length).toBeGreaterThanOrEqual(4);
      toSource.close();
    }
  });

  it('parses `pieces` strictly', () => {
    const hash = 'a'.repeat(64);
    expect(parsePeerMessage({ type: 'pieces', hash, total: 10, pieces: [0, 9] })).toEqual({
      type: 'pieces',
      hash,
      total: 10,
      pieces: [0, 9],
    });
    expect(
      parsePeerMessage({ type: 'pieces', hash, total: 10, pieces: [1], coming: true }),
    ).toMatchObject({ coming: true });
    for (const bad of [
      { type: 'pieces', hash, total: 10, pieces: [10] },
      { type: 'pieces', hash, total: 10, pieces: [] },
      { type: 'pieces', hash, total: 10, pieces: [-1] },
      { type: 'pieces', hash, total: 10, pieces: [0.5] },
      { type: 'pieces', hash: 'x', total: 10, pieces: [0] },
      { type: 'pieces', hash, total: 10, pieces: [0], coming: 'yes' },
    ])
      expect(parsePeerMessage(bad)).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import {
  type BlobCache,
  createBlobExchange,
  createMemoryBlobCache,
  type PeerLink,
  seededRandom,
} from '../../src/index.ts';
import { createVirtualTime, linkPair, sha256, until } from './helpers.ts';

const PIECE = 4096;

function blob(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 13 + 5) % 251;
  return b;
}

type VT = ReturnType<typeof createVirtualTime>;

function exchange(vt: VT, seed: number, extra = {}) {
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
async function settle<T>(vt: VT, p: Promise<T>, steps = 2000): Promise<T> {
  let done = false;
  const mark = () => {
    done = true;
  };
  p.then(mark, mark);
  for (let i = 0; i < steps && !done; i++) await vt.advance(5);
  return p;
}

/** A peer on the far end of `link` that announces `pieces` of `bytes` and serves them after `delayMs`. */
async function slowPeer(
  vt: VT,
  link: PeerLink,
  bytes: Uint8Array,
  hash: string,
  pieces: number[],
  delayMs: number,
) {
  const served: number[] = [];
  link.onMessage((m) => {
    if (m.type !== 'want') return;
    vt.timers.setTimeout(() => {
      served.push(m.offset / PIECE);
      const data = bytes.slice(m.offset, m.offset + m.length);
      void link.send({ type: 'chunk', hash, offset: m.offset, total: bytes.byteLength, data });
    }, delayMs);
  });
  await link.send({ type: 'pieces', hash, total: bytes.byteLength, pieces });
  await vt.advance(1);
  return served;
}

describe('blob swarm', () => {
  it('a seed sends every piece once before it sends any piece twice', async () => {
    const vt = createVirtualTime();
    const bytes = blob(4 * PIECE);
    const seed = exchange(vt, 1, { uploadBytesPerSec: PIECE }); // a piece a second
    const hash = await seed.add(bytes);
    const sent: number[] = [];
    const wanters: PeerLink[] = [];
    for (let i = 0; i < 3; i++) {
      const [s, w] = linkPair(vt, { deadAfterMs: 600_000 });
      seed.attach(s);
      w.onMessage((m) => {
        if (m.type === 'chunk') sent.push(m.offset / PIECE);
      });
      wanters.push(w);
    }
    await vt.advance(1);
    const want = (w: PeerLink, piece: number) =>
      w.send({ type: 'want', hash, offset: piece * PIECE, length: PIECE });
    // Two fetchers ask for pieces 0 and 1 (as fetchers starting at the same place would),
    // a third for piece 2 and then 3, last.
    await want(wanters[0]!, 0);
    await want(wanters[0]!, 1);
    await want(wanters[1]!, 0);
    await want(wanters[1]!, 1);
    await want(wanters[2]!, 2);
    await want(wanters[2]!, 3);
    await vt.advance(10_000);
    expect(sent).toHaveLength(6);
    // First in: piece 0 goes at once; then pieces 1, 2, 3 (never sent yet) before the second copies.
    expect(new Set(sent.slice(0, 4))).toEqual(new Set([0, 1, 2, 3]));
    expect(sent.slice(4).sort()).toEqual([0, 1]);
    expect(seed.stats().uploadedBytes).toBe(6 * PIECE);
  });

  it('asks its source for one piece until the first arrives, then for several when alone', async () => {
    const vt = createVirtualTime();
    const bytes = blob(16 * PIECE);
    const hash = await sha256(bytes);
    const fetcher = exchange(vt, 2);
    const [src, toSource] = linkPair(vt);
    fetcher.attach(toSource);
    const wants: number[] = [];
    src.onMessage((m) => {
      if (m.type === 'want') wants.push(m.offset / PIECE);
    });
    const p = fetcher.fetch(hash, bytes.byteLength, [toSource]);
    await vt.advance(1);
    expect(wants).toHaveLength(1);
    const first = wants[0]!;
    await src.send({
      type: 'chunk',
      hash,
      offset: first * PIECE,
      total: bytes.byteLength,
      data: bytes.slice(first * PIECE, (first + 1) * PIECE),
    });
    await vt.advance(1);
    // Nobody else fetches it: the source now gets the usual window (4).
    expect(wants).toHaveLength(5);
    toSource.close();
    await expect(p).rejects.toBeTruthy();
  });

  it('a slow peer does not hold a fetch back while its source is idle: the source sends what the peer owes', async () => {
    const vt = createVirtualTime();
    const bytes = blob(16 * PIECE);
    const source = exchange(vt, 1);
    const hash = await source.add(bytes);
    const fetcher = exchange(vt, 2);
    const [s, toSource] = linkPair(vt, { deadAfterMs: 600_000 });
    source.attach(s);
    fetcher.attach(toSource);
    const [peer, toPeer] = linkPair(vt, { deadAfterMs: 600_000 });
    fetcher.attach(toPeer);
    // The peer holds every piece but the last and answers each want after 60 s.
    const held = Array.from({ length: 15 }, (_, i) => i);
    const served = await slowPeer(vt, peer, bytes, hash, held, 60_000);
    let done = false;
    const p = fetcher.fetch(hash, bytes.byteLength, [toSource]).then((b) => {
      done = true;
      return b;
    });
    // One virtual second (the peer answers nothing in it), then real time only, for the hash.
    for (let i = 0; i < 200; i++) await vt.advance(5);
    await until(() => expect(done).toBe(true));
    expect(await sha256(await p)).toBe(hash);
    // The source sent the pieces the peer held (one spare want at a time) and, at the
    // end, asked again for those the peer owed.
    expect(served).toHaveLength(0);
    expect(source.stats().uploadedBytes).toBe(bytes.byteLength);
    // The peer's late chunks are ignored.
    await vt.advance(61_000);
    expect(fetcher.stats().downloadedBytes).toBe(bytes.byteLength);
  });

  it('a spare want its source answers late is dropped and asked again: the source is not given up', async () => {
    const vt = createVirtualTime();
    const bytes = blob(8 * PIECE);
    const hash = await sha256(bytes);
    const fetcher = exchange(vt, 2, { pieceTimeoutMs: 200 });
    const [src, toSource] = linkPair(vt, { deadAfterMs: 600_000 });
    fetcher.attach(toSource);
    // The source answers at once, but its second want (the first spare) only after 300 ms.
    let wants = 0;
    src.onMessage((m) => {
      if (m.type !== 'want') return;
      const data = bytes.slice(m.offset, m.offset + m.length);
      const reply = () =>
        void src.send({ type: 'chunk', hash, offset: m.offset, total: bytes.byteLength, data });
      if (++wants === 2) vt.timers.setTimeout(reply, 300);
      else reply();
    });
    // A peer says it holds all but the last piece, and never serves any.
    const [peer, toPeer] = linkPair(vt, { deadAfterMs: 600_000 });
    fetcher.attach(toPeer);
    await slowPeer(vt, peer, bytes, hash, [0, 1, 2, 3, 4, 5, 6], 600_000);
    const got = await settle(vt, fetcher.fetch(hash, bytes.byteLength, [toSource]));
    expect(await sha256(got)).toBe(hash);
    expect(wants).toBeGreaterThan(8);
  });

  it('a verified blob is announced, used and served before the cache has finished writing it', async () => {
    const vt = createVirtualTime();
    const bytes = blob(8 * PIECE);
    const seeder = exchange(vt, 1);
    const hash = await seeder.add(bytes);
    // A cache whose writes hang until released (a disk's write and fsync).
    const inner = createMemoryBlobCache();
    let release = () => {};
    const written = new Promise<void>((r) => {
      release = r;
    });
    const slowCache: BlobCache = {
      get: (h) => inner.get(h),
      has: (h) => inner.has(h),
      put: async (h, b) => {
        await written;
        await inner.put(h, b);
      },
    };
    const leecher = exchange(vt, 2, { cache: slowCache });
    const late = exchange(vt, 3);
    const [a, b] = linkPair(vt);
    seeder.attach(a);
    leecher.attach(b);
    const [c, d] = linkPair(vt);
    leecher.attach(c);
    late.attach(d);
    const got = await settle(vt, leecher.fetch(hash, bytes.byteLength, [b]));
    expect(await sha256(got)).toBe(hash);
    expect(await slowCache.has(hash)).toBe(false);
    // Announced to its peers, and served to one of them, from memory.
    await vt.advance(1);
    expect(late.holders(hash)).toEqual(['a']);
    a.close();
    const again = await settle(vt, late.fetch(hash, bytes.byteLength));
    expect(again).toEqual(bytes);
    // A second fetch on the leecher does not start over.
    expect(await leecher.fetch(hash, bytes.byteLength)).toBe(got);
    release();
    await until(async () => expect(await slowCache.has(hash)).toBe(true));
  });
});

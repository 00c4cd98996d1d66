import { describe, expect, it } from 'vitest';
import { createBlobExchange, createMemoryBlobCache } from '../../src/index.ts';
import { createVirtualTime, flush, linkPair, sha256, until } from './helpers.ts';

function blob(n: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => (i * 31 + 7) % 256);
}

function exchange(vt: ReturnType<typeof createVirtualTime>, extra = {}) {
  const cache = createMemoryBlobCache();
  return {
    cache,
    ex: createBlobExchange({
      cache,
      sha256,
      now: vt.now,
      timers: vt.timers,
      pieceBytes: 4096,
      ...extra,
    }),
  };
}

describe('blob exchange', () => {
  it('fetches a blob by hash from a peer that has it, verifies and caches it', async () => {
    const vt = createVirtualTime();
    const seeder = exchange(vt);
    const leecher = exchange(vt);
    const [toLeecher, toSeeder] = linkPair(vt);
    const bytes = blob(50_000);
    const hash = await seeder.ex.add(bytes);
    seeder.ex.attach(toLeecher);
    leecher.ex.attach(toSeeder);
    await flush();
    expect(leecher.ex.holders(hash)).toEqual(['a']);
    const got = await leecher.ex.fetch(hash, bytes.byteLength);
    expect(await sha256(got)).toBe(hash);
    expect(await leecher.cache.has(hash)).toBe(true);
    expect(seeder.ex.stats().uploadedBytes).toBe(50_000);
  });

  it('spreads pieces over several holders, and a peer that fetched a blob serves it onward', async () => {
    const vt = createVirtualTime();
    const bytes = blob(64 * 1024);
    const s1 = exchange(vt);
    const s2 = exchange(vt);
    const leecher = exchange(vt);
    const hash = await s1.ex.add(bytes);
    await s2.ex.add(bytes);
    const [a1, b1] = linkPair(vt);
    const [a2, b2] = linkPair(vt);
    s1.ex.attach(a1);
    s2.ex.attach(a2);
    leecher.ex.attach(b1);
    leecher.ex.attach(b2);
    await flush();
    const got = await leecher.ex.fetch(hash, bytes.byteLength);
    expect(got).toEqual(bytes);
    expect(s1.ex.stats().uploadedBytes).toBeGreaterThan(0);
    expect(s2.ex.stats().uploadedBytes).toBeGreaterThan(0);
    // A second leecher, now also served by the first one (which announced `have`).
    const late = exchange(vt);
    const [c1, d1] = linkPair(vt);
    leecher.ex.attach(c1);
    late.ex.attach(d1);
    await flush();
    expect(late.ex.holders(hash)).toHaveLength(1);
    a1.close(); // the original seeder is gone: only the first leecher can serve
    expect(await late.ex.fetch(hash, bytes.byteLength)).toEqual(bytes);
  });

  it('refuses a corrupted blob with hash-mismatch and caches nothing', async () => {
    const vt = createVirtualTime();
    const liar = exchange(vt);
    const victim = exchange(vt);
    const bytes = blob(10_000);
    const realHash = await sha256(bytes);
    const corrupted = bytes.slice();
    corrupted[5] = corrupted[5]! ^ 1;
    // The liar holds corrupted bytes under the real hash.
    await liar.cache.put(realHash, corrupted);
    await liar.ex.fetch(realHash, corrupted.byteLength); // marks it held (cache hit)
    const [a, b] = linkPair(vt);
    liar.ex.attach(a);
    victim.ex.attach(b);
    await flush();
    await expect(victim.ex.fetch(realHash, bytes.byteLength)).rejects.toMatchObject({
      code: 'hash-mismatch',
    });
    expect(await victim.cache.has(realHash)).toBe(false);
    expect(victim.ex.stats().rejectedBlobs).toBe(1);
  });

  it('fails with blob-unavailable when nobody has it, and with too-large over the limit', async () => {
    const vt = createVirtualTime();
    const a = exchange(vt);
    const b = exchange(vt, { maxBlobBytes: 1000 });
    const [la, lb] = linkPair(vt);
    a.ex.attach(la);
    b.ex.attach(lb);
    const h = 'c'.repeat(64);
    await expect(b.ex.fetch(h, 500, [lb])).rejects.toMatchObject({ code: 'blob-unavailable' });
    await expect(b.ex.fetch(h, 5000, [lb])).rejects.toMatchObject({ code: 'too-large' });
  });

  it('caps the upload rate', async () => {
    const vt = createVirtualTime();
    const seeder = exchange(vt, { uploadBytesPerSec: 8192 });
    const leecher = exchange(vt);
    const bytes = blob(4096 * 4);
    const hash = await seeder.ex.add(bytes);
    const [x, y] = linkPair(vt, { deadAfterMs: 60_000 });
    seeder.ex.attach(x);
    leecher.ex.attach(y);
    await flush();
    let done = false;
    const p = leecher.ex.fetch(hash, bytes.byteLength).then((r) => {
      done = true;
      return r;
    });
    await vt.advance(1000);
    expect(done).toBe(false);
    expect(seeder.ex.stats().uploadedBytes).toBeLessThanOrEqual(8192 + 4096);
    await vt.advance(1100);
    expect(seeder.ex.stats().uploadedBytes).toBe(bytes.byteLength);
    await until(() => expect(done).toBe(true));
    expect(await p).toEqual(bytes);
  });
});

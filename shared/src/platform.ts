/**
 * The seams through which `shared/` reaches the world. The core never reads a
 * clock, randomness or the network itself; each runtime passes these in, and
 * tests pass deterministic ones.
 */

/** Milliseconds since an arbitrary epoch; monotonic within one process. */
export type Now = () => number;

/** Uniform in [0, 1). */
export type Random = () => number;

/** Timers, injected so a simulator can run on virtual time. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /**
   * Runs `fn` after the current task and the I/O already waiting (Node's
   * setImmediate; a MessageChannel post in a page, which background tabs do
   * not throttle). Links gather what is sent until then into one frame.
   * Default: a microtask.
   */
  defer?(fn: () => void): void;
}

/** SHA-256, hex-encoded; WebCrypto in both runtimes. */
export type Sha256Hex = (bytes: Uint8Array) => Promise<string>;

/** A seeded PRNG (mulberry32): deterministic streams for tests and the simulator. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Randomness from the platform's CSPRNG (`crypto.getRandomValues`, in
 * browsers, workers and Node). The job engine's draws decide audits and
 * solo runs, and lease ids are made from them: a predictable source (such
 * as Math.random, whose state a few outputs give away) would let donors
 * tell an audit from fresh work.
 */
export const cryptoRandom: Random = (() => {
  const c = (globalThis as unknown as { crypto: { getRandomValues(a: Uint32Array): Uint32Array } })
    .crypto;
  const buf = new Uint32Array(256);
  let i = buf.length;
  return () => {
    if (i >= buf.length) {
      c.getRandomValues(buf);
      i = 0;
    }
    return buf[i++]! / 4294967296;
  };
})();

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

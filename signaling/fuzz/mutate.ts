/**
 * Seeded generators of hostile input for the fuzzers: a small PRNG (mulberry32)
 * so a failing run is replayed with `--seed`, and mutators of JSON values and bytes.
 */

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  int(maxExclusive: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
}

export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (xs) => xs[Math.floor(next() * xs.length)] as (typeof xs)[number],
    chance: (p) => next() < p,
  };
}

export function randomBytes(rng: Rng, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(256);
  return out;
}

const WEIRD_STRINGS = [
  '',
  '\u0000',
  '\ud800',
  '__proto__',
  'constructor',
  'toString',
  '💥'.repeat(50),
  '../../etc/passwd',
  '{"type":"hello"}',
  'a'.repeat(70),
];

/** A value of a random JSON type, sometimes large or deeply nested. */
export function randomValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 3 ? 7 : 9)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([0, -1, 1.5, 1e308, -0, 2 ** 53, Number.MAX_SAFE_INTEGER + 2, 1024, 1025]);
    case 3:
      return rng.pick(WEIRD_STRINGS);
    case 4:
      return 'x'.repeat(rng.pick([1, 43, 86, 512, 513, 16_384, 20_000]));
    case 5:
      return rng.int(1e9).toString(36);
    case 6:
      return [];
    case 7:
      return Array.from({ length: rng.int(4) }, () => randomValue(rng, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = rng.int(4); i > 0; i--) o[rng.pick(WEIRD_STRINGS)] = randomValue(rng, depth + 1);
      return o;
    }
  }
}

/** A copy of `msg` with one field deleted, retyped or added, or its type changed. */
export function mutateObject(rng: Rng, msg: Record<string, unknown>): unknown {
  const out: Record<string, unknown> = { ...msg };
  const keys = Object.keys(out);
  const key = rng.pick(keys.length ? keys : ['type']);
  switch (rng.int(6)) {
    case 0:
      delete out[key];
      return out;
    case 1:
      out[key] = randomValue(rng);
      return out;
    case 2:
      out[rng.pick(WEIRD_STRINGS)] = randomValue(rng);
      return out;
    case 3:
      out.type = randomValue(rng);
      return out;
    case 4: {
      // Nested: retype a field of an object field.
      const inner = out[key];
      if (inner && typeof inner === 'object' && !Array.isArray(inner)) {
        out[key] = mutateObject(rng, inner as Record<string, unknown>);
      } else out[key] = [inner];
      return out;
    }
    default:
      return rng.pick([[out], JSON.stringify(out), null, 42, 'hello']);
  }
}

/** Flips, truncates, extends or overwrites bytes of a copy of `bytes`. */
export function mutateBytes(rng: Rng, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes);
  switch (rng.int(5)) {
    case 0: {
      for (let i = 1 + rng.int(8); i > 0 && out.length; i--) {
        const at = rng.int(out.length);
        out[at] = (out[at] ?? 0) ^ (1 << rng.int(8));
      }
      return out;
    }
    case 1:
      return out.subarray(0, rng.int(out.length + 1));
    case 2: {
      const more = new Uint8Array(out.length + 1 + rng.int(64));
      more.set(out);
      more.set(randomBytes(rng, more.length - out.length), out.length);
      return more;
    }
    case 3: {
      // Overwrite a little-endian u32 at a random offset with an extreme value.
      if (out.length >= 4) {
        const at = rng.int(out.length - 3);
        new DataView(out.buffer).setUint32(
          at,
          rng.pick([0, 1, 0xffffffff, 0x7fffffff, 1 << 26]),
          true,
        );
      }
      return out;
    }
    default:
      return randomBytes(rng, rng.int(64));
  }
}

/**
 * Comparison of replica outputs: exact (canonical bytes), numeric tolerance
 * and argmax labels. Shape and dtype must always match.
 */
import type { Sha256Hex } from '../platform.ts';
import { type Tensor, type TensorMap, tensorValues } from '../tensor.ts';
import type { CompareRule } from './spec.ts';
import { utf8 } from './utf8.ts';

const enc = { encode: utf8 };

/**
 * The canonical bytes of a tensor: `dtype|d0,d1,..|` in ASCII, then the raw
 * little-endian data. Equal canonical bytes = bitwise-equal tensors.
 */
export function canonicalBytes(t: Tensor): Uint8Array {
  const head = enc.encode(`${t.dtype}|${t.dims.join(',')}|`);
  const out = new Uint8Array(head.byteLength + t.data.byteLength);
  out.set(head);
  out.set(t.data, head.byteLength);
  return out;
}

/** Digest of a tensor map: SHA-256 over names (sorted) and canonical bytes. */
export async function outputsDigest(outputs: TensorMap, sha256: Sha256Hex): Promise<string> {
  const parts: Uint8Array[] = [];
  for (const name of Object.keys(outputs).sort()) {
    parts.push(enc.encode(`${name.length}:${name}`), canonicalBytes(outputs[name]!));
  }
  let n = 0;
  for (const p of parts) n += p.byteLength;
  const all = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.byteLength;
  }
  return sha256(all);
}

function sameShape(a: Tensor, b: Tensor): boolean {
  return (
    a.dtype === b.dtype &&
    a.dims.length === b.dims.length &&
    a.dims.every((d, i) => d === b.dims[i])
  );
}

/** Byte equality, four bytes at a time where both views are aligned (tensors usually are). */
function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  if (a.buffer === b.buffer && a.byteOffset === b.byteOffset) return true;
  let i = 0;
  if (a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0) {
    const words = a.byteLength >>> 2;
    const wa = new Int32Array(a.buffer, a.byteOffset, words);
    const wb = new Int32Array(b.buffer, b.byteOffset, words);
    for (; i < words; i++) if (wa[i] !== wb[i]) return false;
    i = words << 2;
  }
  for (; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function numbers(t: Tensor): ArrayLike<number> {
  const v = tensorValues(t);
  return v instanceof BigInt64Array ? Array.from(v, Number) : v;
}

function withinTolerance(a: Tensor, b: Tensor, abs: number, rel: number): boolean {
  const x = numbers(a);
  const y = numbers(b);
  for (let i = 0; i < x.length; i++) {
    const p = x[i]!;
    const q = y[i]!;
    if (Number.isNaN(p) || Number.isNaN(q)) return false;
    if (p === q) continue; // also -0 == 0 and equal infinities
    if (!(Math.abs(p - q) <= abs + rel * Math.max(Math.abs(p), Math.abs(q)))) return false;
  }
  return true;
}

/** Argmax labels along `axis` (negative counts from the end); -1 where a slice holds NaN. */
export function argmaxLabels(t: Tensor, axis: number): Int32Array | null {
  const rank = t.dims.length;
  const ax = axis < 0 ? rank + axis : axis;
  if (ax < 0 || ax >= rank) return null;
  const v = numbers(t);
  const n = t.dims[ax]!;
  let inner = 1;
  for (let i = ax + 1; i < rank; i++) inner *= t.dims[i]!;
  const outer = n === 0 ? 0 : v.length / (n * inner);
  const labels = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let best = -1;
      let bestV = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < n; k++) {
        const x = v[(o * n + k) * inner + j]!;
        if (Number.isNaN(x)) {
          best = -1;
          break;
        }
        if (best === -1 || x > bestV) {
          best = k;
          bestV = x;
        }
      }
      labels[o * inner + j] = best;
    }
  }
  return labels;
}

/** Whether two tensors agree under a rule. Shape and dtype must match under every rule. */
export function tensorsMatch(a: Tensor, b: Tensor, rule: CompareRule): boolean {
  if (!sameShape(a, b)) return false;
  switch (rule.kind) {
    case 'exact':
      return bytesEqual(a.data, b.data);
    case 'tolerance':
      return withinTolerance(a, b, rule.abs, rule.rel);
    case 'argmax': {
      const la = argmaxLabels(a, rule.axis);
      const lb = argmaxLabels(b, rule.axis);
      if (!la || !lb) return false;
      for (let i = 0; i < la.length; i++) if (la[i] === -1 || la[i] !== lb[i]) return false;
      return true;
    }
  }
}

/** Whether two output maps agree: the same names, each tensor matching under the rule. */
export function outputsMatch(a: TensorMap, b: TensorMap, rule: CompareRule): boolean {
  // Bitwise equal to itself; the other rules keep their NaN semantics.
  if (a === b && rule.kind === 'exact') return true;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    const tb = b[k];
    if (!tb || !tensorsMatch(a[k]!, tb, rule)) return false;
  }
  return true;
}

/**
 * The simulated job's work: task `i` takes one int32 input `x = i` and
 * returns `y = truth(i)`, a 32-bit mix. Only the simulator knows the truth;
 * the engine sees tensors. A colluding cartel shares one wrong answer.
 */
import type { JobSpec, Policy, TaskSpec } from '../job/spec.ts';
import { type Tensor, type TensorMap, tensorFrom } from '../tensor.ts';

/** What task `i` computes. */
export function truth(x: number): number {
  let h = Math.imul(x ^ 0x9e3779b9, 0x85ebca6b);
  h ^= h >>> 13;
  return Math.imul(h, 0xc2b2ae35) | 0;
}

/** The cartel's one wrong answer for input `x`. */
export const sharedLie = (x: number): number => truth(x) ^ 0x5a5a5a5a;
/** Identity number `n`'s own wrong answer for input `x`. */
export const ownLie = (x: number, n: number): number => (truth(x) + 1 + n) | 0;

export const int32 = (v: number): Tensor => tensorFrom('int32', [1], new Int32Array([v]));
export const readInt = (t: Tensor | undefined): number =>
  t ? new DataView(t.data.buffer, t.data.byteOffset).getInt32(0, true) : Number.NaN;
/** The task input of a lease's feeds (what a donor sees). */
export const inputOf = (feeds: TensorMap): number => readInt(feeds.x);

export function createWorkload(tasks: number, policy?: Partial<Policy>): JobSpec {
  const list: TaskSpec[] = [];
  for (let i = 0; i < tasks; i++) {
    list.push({ id: `t${i}`, model: 'm', feeds: { x: { tensor: int32(i) } } });
  }
  return { models: { m: new Uint8Array([1]) }, tasks: list, ...(policy ? { policy } : {}) };
}

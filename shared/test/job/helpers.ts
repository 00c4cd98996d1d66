import type { Backend, Capabilities } from '../../src/contracts.ts';
import { createJobEngine, type JobEngine } from '../../src/job/engine.ts';
import {
  createReputationBook,
  type ReputationBook,
  type ReputationRecord,
} from '../../src/job/reputation.ts';
import type { JobSpec, Policy, TaskSpec } from '../../src/job/spec.ts';
import type { EngineAction } from '../../src/job/types.ts';
import { type Sha256Hex, seededRandom } from '../../src/platform.ts';
import { type Tensor, type TensorMap, tensorFrom } from '../../src/tensor.ts';

interface SubtleDigest {
  digest(alg: string, data: Uint8Array): Promise<ArrayBuffer>;
}
const subtle = (globalThis as unknown as { crypto: { subtle: SubtleDigest } }).crypto.subtle;
export const sha256: Sha256Hex = async (b) =>
  [...new Uint8Array(await subtle.digest('SHA-256', b))]
    .map((x) => x.toString(16).padStart(2, '0'))
    .join('');

export const i32 = (...v: number[]): Tensor => tensorFrom('int32', [v.length], new Int32Array(v));
export const out = (v: number): TensorMap => ({ y: i32(v) });
export const caps = (maxConcurrency = 1, backends: Backend[] = ['wasm']): Capabilities => ({
  runtime: 'node',
  backends,
  cores: 4,
  memoryMB: 1024,
  maxConcurrency,
});

/** No hidden audits (tests that count leases). */
export const NO_AUDITS: Partial<Policy> = { auditRate: 0, soloAuditRate: 0, youngAuditRate: 0 };
/**
 * Engine mechanics (leases, the DAG, disputes) on a few donors: a target
 * error that two agreeing newcomers meet. Tests of credibility set their own.
 */
export const LENIENT: Partial<Policy> = { ...NO_AUDITS, targetError: 0.25 };

/** Independent tasks t0..t(n-1), feeding x = i. */
export function tasksOf(n: number): TaskSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `t${i}`,
    model: 'm',
    feeds: { x: { tensor: i32(i) } },
  }));
}

export function specOf(tasks: TaskSpec[], policy: Partial<Policy> = {}): JobSpec {
  return { models: { m: new Uint8Array([1]) }, tasks, policy: { ...LENIENT, ...policy } };
}

export function trustedRecord(peerId: string): ReputationRecord {
  return {
    peerId,
    agreements: 5000,
    disagreements: 0,
    audited: 5000,
    losses: 0,
    witnesses: [],
    excluded: false,
    creditMs: 0,
  };
}

export type Assign = Extract<EngineAction, { type: 'assign' }>;
export const assigns = (a: EngineAction[]) => a.filter((x): x is Assign => x.type === 'assign');
export const cancels = (a: EngineAction[]) => a.filter((x) => x.type === 'cancel');

/** An engine on a manual clock. */
export function harness(
  spec: JobSpec,
  opts: { book?: ReputationBook; random?: () => number } = {},
) {
  const clock = { t: 0 };
  const book = opts.book ?? createReputationBook();
  const engine: JobEngine = createJobEngine({
    jobId: 'job1',
    spec,
    now: () => clock.t,
    random: opts.random ?? seededRandom(7),
    reputation: book,
  });
  return { engine, book, clock };
}

/**
 * Bounded residency by result bytes: a group job whose outputs are large
 * keeps only `residentResultBytes` of verified results in memory (however
 * few tasks that is), every result still in the store.
 */
import { describe, expect, it } from 'vitest';
import { canonicalBytes } from '../../src/job/compare.ts';
import { createJobEngine } from '../../src/job/engine.ts';
import { createReputationBook } from '../../src/job/reputation.ts';
import type { JobSpec } from '../../src/job/spec.ts';
import type { EngineAction } from '../../src/job/types.ts';
import { seededRandom } from '../../src/platform.ts';
import { createMemoryJobStore } from '../../src/store/memory-store.ts';
import { tensorFrom } from '../../src/tensor.ts';
import { caps, NO_AUDITS, sha256 } from './helpers.ts';

/** Each task's output: 64 KiB. */
const OUT_BYTES = 64 * 1024;

async function bigOutputJob(n: number): Promise<JobSpec> {
  const blob = tensorFrom(
    'int32',
    [n],
    Int32Array.from({ length: n }, (_, i) => i),
  );
  const hash = await sha256(canonicalBytes(blob));
  return {
    models: { m: new Uint8Array([1]) },
    blobs: { [hash]: blob },
    tasks: [],
    groups: [{ idPrefix: 'big-', count: n, model: 'm', feeds: { x: { rowsOf: hash, rows: 1 } } }],
    policy: { ...NO_AUDITS, adaptive: false, targetError: 0.1, trustedDonors: ['anchor'] },
  };
}

describe('residentResultBytes', () => {
  it.each([
    ['a byte budget of 4 results', 4 * OUT_BYTES, 4],
    ['the default budget', undefined, 200],
  ])('keeps verified results in memory up to %s', async (_, budget, resident) => {
    const n = 200;
    const store = createMemoryJobStore();
    const engine = createJobEngine({
      jobId: 'bytes',
      spec: await bigOutputJob(n),
      now: () => 0,
      random: seededRandom(3),
      reputation: createReputationBook(),
      maxInFlightPerDonor: 4,
      ...(budget !== undefined ? { residentResultBytes: budget } : {}),
    });
    let pending: EngineAction[] = engine.donorAvailable({ id: 'anchor', capabilities: caps(4) });
    let mostResident = 0;
    while (pending.length > 0) {
      const next: EngineAction[] = [];
      for (const a of pending) {
        if (a.type !== 'assign') continue;
        next.push(...engine.acked(a.leaseId));
        const y = tensorFrom('uint8', [OUT_BYTES], new Uint8Array(OUT_BYTES).fill(a.taskId.length));
        next.push(...engine.reported(a.leaseId, { y }, 1));
      }
      await store.commit(engine.jobId, engine.takeDelta());
      const p = engine.progress();
      mostResident = Math.max(mostResident, p.tasks.verified - p.retired);
      pending = next;
    }
    const p = engine.progress();
    expect(p.state).toBe('completed');
    expect(p.tasks.verified).toBe(n);
    if (budget === undefined)
      expect(p.retired).toBe(0); // 12.5 MiB: under the default
    else expect(n - p.retired).toBeLessThanOrEqual(resident);
    // Between commits a burst of at most one lease window's results joins them.
    expect(mostResident).toBeLessThanOrEqual(resident + 4);
    let stored = 0;
    for await (const r of store.results('bytes')) {
      expect(r.outputs.y?.data.byteLength).toBe(OUT_BYTES);
      stored++;
    }
    expect(stored).toBe(n);
  });
});

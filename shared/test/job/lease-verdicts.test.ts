import { describe, expect, it } from 'vitest';
import type { JobEvent } from '../../src/job/types.ts';
import { assigns, caps, harness, out, specOf, tasksOf } from './helpers.ts';

const verdicts = (events: JobEvent[]) =>
  events
    .filter((e) => e.type === 'lease-verdict')
    .map((e) => `${e.donor}:${e.verdict}:${e.creditMs}`);

describe('job engine: a verdict per lease', () => {
  it('tells winners and losers once, when the task is accepted, never before', () => {
    const { engine } = harness(specOf(tasksOf(1), { maxReplicas: 4 }));
    const leases = [
      ...assigns(engine.donorAvailable({ id: 'a', capabilities: caps() })),
      ...assigns(engine.donorAvailable({ id: 'b', capabilities: caps() })),
    ];
    engine.donorAvailable({ id: 'c', capabilities: caps() });
    engine.donorAvailable({ id: 'd', capabilities: caps() });
    engine.reported(leases[0]!.leaseId, out(1), 5);
    const more = assigns(engine.reported(leases[1]!.leaseId, out(2), 6)); // a dispute
    expect(verdicts(engine.takeEvents())).toEqual([]);
    const extra = [...more];
    for (const l of more) extra.push(...assigns(engine.reported(l.leaseId, out(1), 7)));
    for (const l of extra.slice(more.length)) engine.reported(l.leaseId, out(1), 7);
    expect(engine.result('t0')).toEqual(out(1));
    const told = verdicts(engine.takeEvents());
    expect(told).toContain('a:accepted:5');
    expect(told).toContain('b:rejected:0');
    expect(new Set(told).size).toBe(told.length);
  });

  it('rejects the result of an excluded donor at once, and tells nothing of a failed task', () => {
    const { engine, book } = harness(specOf(tasksOf(2), { maxAttempts: 1 }));
    const a = assigns(engine.donorAvailable({ id: 'a', capabilities: caps(2) }));
    const b = assigns(engine.donorAvailable({ id: 'b', capabilities: caps(2) }));
    book.exclude('b', 'test');
    engine.reported(b[0]!.leaseId, out(1), 3);
    expect(verdicts(engine.takeEvents())).toEqual(['b:rejected:0']);
    engine.reported(a[1]!.leaseId, out(1), 3);
    engine.errored(a[0]!.leaseId, { code: 'internal', message: 'boom' });
    expect(engine.progress().tasks.failed).toBeGreaterThan(0);
    expect(verdicts(engine.takeEvents())).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { DEPARTURES_PER_ATTEMPT } from '../../src/job/engine.ts';
import { assigns, caps, harness, out, specOf } from './helpers.ts';

describe('job engine: donors that leave', () => {
  const spec = () =>
    specOf([{ id: 'a', model: 'm', feeds: {} }], { replicas: 1, quorum: 1, maxAttempts: 2 });

  it('re-issues a lease whose donor left without spending the task attempts', () => {
    const { engine } = harness(spec());
    // Far more departures than maxAttempts: churn alone does not fail the task.
    for (let i = 0; i < 2 * DEPARTURES_PER_ATTEMPT - 1; i++) {
      const [lease] = assigns(engine.donorAvailable({ id: `gone-${i}`, capabilities: caps() }));
      expect(lease?.taskId).toBe('a');
      engine.donorGone(`gone-${i}`);
    }
    expect(engine.progress().tasks.failed).toBe(0);
    const [last] = assigns(engine.donorAvailable({ id: 'stays', capabilities: caps() }));
    engine.reported(last!.leaseId, out(3), 5);
    expect(engine.result('a')).toEqual(out(3));
    expect(engine.progress().state).toBe('completed');
  });

  it('still fails a task that every donor leaves, with the reason', () => {
    const { engine } = harness(spec());
    for (let i = 0; i < 2 * DEPARTURES_PER_ATTEMPT; i++) {
      assigns(engine.donorAvailable({ id: `gone-${i}`, capabilities: caps() }));
      engine.donorGone(`gone-${i}`);
    }
    const p = engine.progress();
    expect(p.state).toBe('failed');
    expect(p.failed[0]!.reason).toMatch(/8 donors left while running it; last: donor gone/);
  });
});

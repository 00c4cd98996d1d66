import { describe, expect, it } from 'vitest';
import { DEPARTURES_PER_ATTEMPT } from '../../src/job/engine.ts';
import { HANDBACK_CODES, isHandback } from '../../src/job/handback.ts';
import { assigns, caps, harness, out, specOf } from './helpers.ts';

describe('job engine: leases handed back by their donor', () => {
  const spec = () =>
    specOf([{ id: 'a', model: 'm', feeds: {} }], { replicas: 1, quorum: 1, maxAttempts: 2 });

  it.each(HANDBACK_CODES)(
    "re-issues a lease handed back with '%s' without spending the task's attempts or the donor's record",
    (code) => {
      const { engine, book } = harness(spec());
      let [lease] = assigns(engine.donorAvailable({ id: 'd', capabilities: caps() }));
      // More hand-backs than maxAttempts (2): a paused donor says nothing about the task.
      for (let i = 0; i < 3; i++) {
        expect(lease?.taskId).toBe('a');
        [lease] = assigns(engine.errored(lease!.leaseId, { code, message: 'this donor paused' }));
      }
      expect(engine.progress().tasks.failed).toBe(0);
      expect(lease?.taskId).toBe('a');
      engine.reported(lease!.leaseId, out(1), 5);
      expect(engine.progress().state).toBe('completed');
      expect(book.get('d')?.losses ?? 0).toBe(0);
      expect(book.get('d')?.disagreements ?? 0).toBe(0);
    },
  );

  it('still ends a task every donor hands back, within the departures budget', () => {
    const { engine } = harness(spec());
    let [lease] = assigns(engine.donorAvailable({ id: 'd', capabilities: caps() }));
    for (let i = 0; i < 2 * DEPARTURES_PER_ATTEMPT; i++) {
      expect(engine.progress().state).toBe('running');
      [lease] = assigns(engine.errored(lease!.leaseId, { code: 'paused', message: 'on battery' }));
    }
    expect(engine.progress().state).toBe('failed');
    expect(engine.progress().failed[0]?.reason).toMatch(
      /8 donors left while running it; last: paused/,
    );
  });

  it('charges any other error to the task, as before', () => {
    const { engine } = harness(spec());
    let [lease] = assigns(engine.donorAvailable({ id: 'd', capabilities: caps() }));
    for (let i = 0; i < 2; i++)
      [lease] = assigns(engine.errored(lease!.leaseId, { code: 'bad-input', message: 'no x' }));
    expect(engine.progress().failed[0]?.reason).toMatch(/2 attempts ended without a result/);
    expect(isHandback('bad-input')).toBe(false);
    expect(isHandback('paused')).toBe(true);
  });
});

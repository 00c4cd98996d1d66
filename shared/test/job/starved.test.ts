import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/platform.ts';
import { assigns, caps, harness, out, specOf, tasksOf } from './helpers.ts';

describe('job engine: tasks no donor on offer can grow', () => {
  it('settles a fresh task whose planned audit no third donor can take, on the results it has', () => {
    // Every task plans an audit (3 leases); only 2 donors exist.
    const { engine } = harness(specOf(tasksOf(3), { auditRate: 0.99 }), {
      random: seededRandom(2),
    });
    let pending = ['d1', 'd2'].flatMap((id) =>
      assigns(engine.donorAvailable({ id, capabilities: caps(3) })),
    );
    for (let i = 0; i < 20 && pending.length > 0; i++) {
      pending = pending.flatMap((l) => assigns(engine.reported(l.leaseId, out(4), 1)));
    }
    const p = engine.progress();
    expect(p.tasks.verified).toBe(3);
    expect(p.state).toBe('completed'); // 2 newcomers meet the test target of 0.25
  });
});

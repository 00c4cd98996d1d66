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

describe('job engine: audit figures', () => {
  it('counts each audit once, also when its task is accepted again', async () => {
    const { createReputationBook } = await import('../../src/job/reputation.ts');
    const book = createReputationBook();
    const policy = { auditRate: 0.99, youngAuditRate: 0.99, targetError: 1e-3 };
    const { engine } = harness(specOf(tasksOf(1), policy), { book, random: seededRandom(9) });
    let more = ['d1', 'd2', 'd3', 'd4', 'd5'].flatMap((id) =>
      assigns(engine.donorAvailable({ id, capabilities: caps() })),
    );
    while (more.length > 0) {
      more = more.flatMap((l) => assigns(engine.reported(l.leaseId, out(1), 1)));
    }
    expect(engine.progress().audits).toEqual({ issued: 1, passed: 1, failed: 0 });
    // Three backers caught elsewhere: what is left is short of the target, so it is verified again.
    for (const id of ['d1', 'd2', 'd3']) book.exclude(id, 'caught elsewhere');
    more = ['d6', 'd7', 'd8', 'd9'].flatMap((id) =>
      assigns(engine.donorAvailable({ id, capabilities: caps() })),
    );
    while (more.length > 0) {
      more = more.flatMap((l) => assigns(engine.reported(l.leaseId, out(1), 1)));
    }
    expect(engine.progress().reopened).toBe(1);
    expect(engine.progress().state).toBe('completed');
    expect(engine.progress().audits.passed).toBe(1);
  });
});

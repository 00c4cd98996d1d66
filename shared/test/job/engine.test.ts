import { describe, expect, it } from 'vitest';
import { createReputationBook } from '../../src/job/reputation.ts';
import { seededRandom } from '../../src/platform.ts';
import { assigns, caps, harness, i32, out, specOf, tasksOf, trustedRecord } from './helpers.ts';

describe('job engine: leases and the DAG', () => {
  it('accepts on a 2-of-2 quorum from distinct donors, then feeds the dependent', () => {
    const spec = specOf([
      { id: 'a', model: 'm', feeds: { x: { tensor: i32(1) } } },
      { id: 'b', model: 'm', feeds: { x: { fromTask: 'a', output: 'y' } } },
    ]);
    const { engine } = harness(spec);
    const first = assigns(engine.donorAvailable({ id: 'd1', capabilities: caps(2) }));
    expect(first.map((a) => a.taskId)).toEqual(['a']); // b is blocked; a's second replica needs another donor
    const second = assigns(engine.donorAvailable({ id: 'd2', capabilities: caps(2) }));
    expect(second).toHaveLength(1);
    expect(second[0]!.donor).toBe('d2');
    expect(engine.progress().tasks).toMatchObject({ blocked: 1, running: 1 });
    engine.acked(first[0]!.leaseId);
    expect(assigns(engine.reported(first[0]!.leaseId, out(42), 10))).toHaveLength(0);
    const next = assigns(engine.reported(second[0]!.leaseId, out(42), 12));
    expect(engine.result('a')).toEqual(out(42));
    expect(next.map((a) => [a.taskId, a.donor]).sort()).toEqual([
      ['b', 'd1'],
      ['b', 'd2'],
    ]);
    expect(next[0]!.feeds.x).toEqual(i32(42));
    for (const a of next) engine.reported(a.leaseId, out(7), 5);
    expect(engine.progress().state).toBe('completed');
    const types = engine.takeEvents().map((e) => e.type);
    expect(types[0]).toBe('job-started');
    expect(types.at(-1)).toBe('job-completed');
    expect(types.filter((t) => t === 'task-verified')).toHaveLength(2);
  });

  it('re-issues a lease past its ack timeout or deadline, then fails the task and its dependents', () => {
    const spec = specOf(
      [
        { id: 'a', model: 'm', feeds: {} },
        { id: 'b', model: 'm', feeds: { x: { fromTask: 'a', output: 'y' } } },
      ],
      { replicas: 1, quorum: 1, maxAttempts: 2, ackTimeoutMs: 10, taskDeadlineMs: 100 },
    );
    const { engine, clock } = harness(spec);
    const [l1] = assigns(engine.donorAvailable({ id: 'd1', capabilities: caps() }));
    clock.t = 11;
    const acts = engine.tick();
    expect(acts[0]).toMatchObject({ type: 'cancel', leaseId: l1!.leaseId });
    const [l2] = assigns(acts);
    expect(l2!.taskId).toBe('a');
    engine.acked(l2!.leaseId);
    clock.t = 50;
    expect(engine.tick()).toEqual([]); // acknowledged and within the deadline
    clock.t = 112;
    engine.tick();
    const p = engine.progress();
    expect(p.tasks.failed).toBe(2);
    expect(p.failed[0]!.reason).toMatch(/2 attempts .* past its deadline/);
    expect(p.failed[1]).toEqual({ taskId: 'b', reason: 'input task a failed' });
    expect(p.state).toBe('failed');
    // A report for an expired lease is ignored.
    engine.reported(l1!.leaseId, out(1), 1);
    expect(engine.result('a')).toBeUndefined();
  });

  it('re-issues the leases of a donor that left, and counts errors as attempts', () => {
    const { engine } = harness(specOf(tasksOf(1), { replicas: 1, quorum: 1, maxAttempts: 3 }));
    const [l1] = assigns(engine.donorAvailable({ id: 'd1', capabilities: caps() }));
    engine.donorAvailable({ id: 'd2', capabilities: caps() });
    const [l2] = assigns(engine.donorGone('d1'));
    expect(l2).toMatchObject({ taskId: 't0', donor: 'd2' });
    const [l3] = assigns(engine.errored(l2!.leaseId, { code: 'bad-input', message: 'no feed x' }));
    expect(l3!.donor).toBe('d2');
    // The donor leaving did not spend an attempt: two errors leave one more.
    const [l4] = assigns(engine.errored(l3!.leaseId, { code: 'bad-input', message: 'no feed x' }));
    expect(engine.progress().tasks.failed).toBe(0);
    engine.errored(l4!.leaseId, { code: 'bad-input', message: 'no feed x' });
    expect(engine.progress().failed[0]!.reason).toMatch(/3 attempts.*bad-input: no feed x/);
    expect(l1!.leaseId).not.toBe(l2!.leaseId);
  });

  it('bounds leases in flight per donor', () => {
    const { engine } = harness(specOf(tasksOf(10), { replicas: 1, quorum: 1 }));
    expect(assigns(engine.donorAvailable({ id: 'd1', capabilities: caps(8) }))).toHaveLength(4);
    expect(engine.progress().leasesInFlight).toBe(4);
  });

  it('keeps replicas of one task on the backend class of the first under exact comparison', () => {
    const spec = specOf(tasksOf(1));
    const { engine } = harness(spec);
    const [a] = assigns(engine.donorAvailable({ id: 'w1', capabilities: caps(1, ['wasm']) }));
    expect(
      assigns(engine.donorAvailable({ id: 'g1', capabilities: caps(1, ['webgpu']) })),
    ).toHaveLength(0);
    const [b] = assigns(engine.donorAvailable({ id: 'w2', capabilities: caps(1, ['wasm']) }));
    expect([a!.donor, b!.donor]).toEqual(['w1', 'w2']);
    // Under a tolerance rule another class may serve.
    const tol = harness(
      specOf(tasksOf(1), { compare: { kind: 'tolerance', abs: 1e-5, rel: 1e-5 } }),
    );
    tol.engine.donorAvailable({ id: 'w1', capabilities: caps(1, ['wasm']) });
    expect(
      assigns(tol.engine.donorAvailable({ id: 'g1', capabilities: caps(1, ['webgpu']) })),
    ).toHaveLength(1);
  });

  it('cancels every lease when the job is cancelled', () => {
    const { engine } = harness(specOf(tasksOf(2)));
    engine.donorAvailable({ id: 'd1', capabilities: caps(2) });
    const acts = engine.cancel();
    expect(acts.map((a) => a.type)).toEqual(['cancel', 'cancel']);
    expect(engine.progress().state).toBe('cancelled');
    expect(engine.donorAvailable({ id: 'd2', capabilities: caps(2) })).toEqual([]);
  });
});

describe('job engine: verification by credibility', () => {
  const join = (engine: ReturnType<typeof harness>['engine'], ids: string[], n = 1) =>
    ids.flatMap((id) => assigns(engine.donorAvailable({ id, capabilities: caps(n) })));
  const credible = (ids: string[]) => createReputationBook(ids.map(trustedRecord));

  it('grows a task until its bound meets the target: newcomers need more agreeing results than credible donors', () => {
    const { engine } = harness(specOf(tasksOf(1), { targetError: 1e-4, maxReplicas: 8 }));
    let pending = join(engine, ['d1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7', 'd8']);
    expect(pending).toHaveLength(2);
    while (pending.length > 0) {
      pending = pending.flatMap((l) => assigns(engine.reported(l.leaseId, out(1), 1)));
    }
    // A newcomer's error odds are f/(1 − f) = 0.25: 0.25^n / (1 + 0.25^n) <= 1e-4 needs n = 7.
    const p = engine.progress();
    expect(p.resultsReceived).toBe(7);
    expect(p).toMatchObject({ state: 'completed', final: 1, targetError: 1e-4 });
    expect(p.achievedError).toBeGreaterThan(0);
    expect(p.achievedError).toBeLessThanOrEqual(1e-4);

    const two = harness(specOf(tasksOf(1), { targetError: 1e-4, adaptive: false }), {
      book: credible(['c1', 'c2']),
    });
    const leases = join(two.engine, ['c1', 'c2', 'd9']);
    expect(leases.map((l) => l.donor)).toEqual(['c1', 'c2']);
    for (const l of leases) two.engine.reported(l.leaseId, out(1), 1);
    expect(two.engine.progress()).toMatchObject({
      state: 'completed',
      resultsReceived: 2,
      final: 1,
    });
  });

  it('accepts a unanimous task at maxReplicas short of the target, and completes once its backers are credible', () => {
    const { engine, clock } = harness(specOf(tasksOf(2), { targetError: 1e-4, maxReplicas: 3 }));
    let pending = join(engine, ['d1', 'd2', 'd3']);
    while (pending.length > 0) {
      pending = pending.flatMap((l) => assigns(engine.reported(l.leaseId, out(1), 1)));
    }
    let p = engine.progress();
    expect(p.tasks.verified).toBe(2);
    expect(p.final).toBe(0); // three newcomers: 0.25^3 is far from 1e-4
    expect(p.state).toBe('running');
    expect(p.achievedError).toBeGreaterThan(1e-4);
    clock.t = 1;
    engine.tick(); // the donors now hold two confirmations each: 3 of them meet the target
    p = engine.progress();
    expect(p).toMatchObject({ state: 'completed', final: 2 });
    expect(engine.takeEvents().filter((e) => e.type === 'task-final')).toHaveLength(2);
  });

  it('settles a dispute on credible results; the loser goes back to probation, not out', () => {
    const book = credible(['h1', 'h2', 'h3']);
    const { engine } = harness(specOf(tasksOf(1), { targetError: 1e-4, adaptive: false }), {
      book,
    });
    const leases = join(engine, ['x', 'h1', 'h2', 'h3']);
    expect(leases.map((l) => l.donor)).toEqual(['x', 'h1']);
    engine.reported(leases[0]!.leaseId, out(2), 1);
    const [third] = assigns(engine.reported(leases[1]!.leaseId, out(1), 1));
    expect(third!.donor).toMatch(/^h/); // credible donors first in a dispute
    engine.reported(third!.leaseId, out(1), 1);
    expect(engine.result('t0')).toEqual(out(1));
    expect(engine.progress()).toMatchObject({ state: 'completed', disputes: 1 });
    expect(book.get('x')).toMatchObject({
      audited: 0,
      disagreements: 1,
      losses: 1,
      excluded: false,
    });
    expect(book.get('h1').audited).toBe(5001);
  });

  it('excludes at once a donor that contradicts an anchor', () => {
    const { engine, book } = harness(specOf(tasksOf(1), { targetError: 1e-4 }));
    const [a] = assigns(engine.donorAvailable({ id: 'me', capabilities: caps(), anchor: true }));
    const [x] = join(engine, ['x']);
    expect([a!.donor, x!.donor]).toEqual(['me', 'x']);
    engine.reported(a!.leaseId, out(1), 1);
    engine.reported(x!.leaseId, out(2), 1);
    expect(engine.result('t0')).toEqual(out(1));
    expect(book.isExcluded('x')).toBe(true);
    const p = engine.progress();
    expect(p).toMatchObject({ state: 'completed', achievedError: 0 });
    expect(p.anchors).toEqual({ donors: ['me'], results: 1 });
    expect(p.excluded[0]).toMatchObject({ donor: 'x', reason: expect.stringMatching(/anchor/) });
  });

  it('never excludes on losses to the same few donors; losses to several credible ones do', () => {
    const book = createReputationBook([], { excludeAfterLosses: 3, excludeWitnesses: 4 });
    expect(book.lost('h', { witnesses: ['c1', 'c2'], anchor: false })).toBe(false);
    expect(book.lost('h', { witnesses: ['c1', 'c2'], anchor: false })).toBe(false);
    expect(book.lost('h', { witnesses: ['c1', 'c2'], anchor: false })).toBe(false); // 3 losses, 2 witnesses
    expect(book.lost('h', { witnesses: ['c3', 'c4'], anchor: false })).toBe(true);
    expect(book.lost('y', { witnesses: [], anchor: true })).toBe(true);
    book.agreed('z', true);
    book.agreed('z', false); // alone: agreed, not confirmed
    expect(book.get('z')).toMatchObject({ agreements: 2, audited: 1 });
  });

  it('plans solo runs only for a long audited record, and re-verifies them when that donor is excluded', () => {
    const book = credible(['t1']);
    const { engine } = harness(specOf(tasksOf(2), { targetError: 1e-2 }), {
      book,
      random: () => 0,
    });
    expect(engine.soloChance('t1')).toBeCloseTo(0.3);
    expect(engine.soloChance('d1')).toBe(0);
    const solo = join(engine, ['t1'], 2);
    expect(solo.map((a) => a.taskId)).toEqual(['t0', 't1']);
    for (const a of solo) engine.reported(a.leaseId, out(9), 1);
    expect(engine.progress()).toMatchObject({ state: 'completed', soloAccepted: 2, final: 2 });
    book.exclude('t1', 'caught lying elsewhere');
    let pending = join(engine, ['d1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7'], 2);
    expect(engine.progress()).toMatchObject({ state: 'running', reopened: 2 });
    expect(engine.result('t0')).toBeUndefined();
    while (pending.length > 0) {
      pending = pending.flatMap((l) => assigns(engine.reported(l.leaseId, out(5), 1)));
    }
    expect(engine.result('t0')).toEqual(out(5));
    expect(engine.progress().state).toBe('completed');
  });

  it('weighs again what a donor backed in a quorum when it is excluded', () => {
    const book = credible(['c1']);
    const { engine } = harness(specOf(tasksOf(1), { targetError: 1e-2, adaptive: false }), {
      book,
    });
    const first = join(engine, ['c1', 'd1']);
    for (const l of first) engine.reported(l.leaseId, out(3), 1);
    expect(engine.progress()).toMatchObject({ state: 'completed', final: 1 });
    book.exclude('c1', 'caught elsewhere');
    let pending = join(engine, ['d2', 'd3', 'd4']);
    expect(engine.progress()).toMatchObject({ state: 'running', reopened: 1 });
    expect(pending.length).toBeGreaterThan(0);
    while (pending.length > 0) {
      pending = pending.flatMap((l) => assigns(engine.reported(l.leaseId, out(3), 1)));
    }
    expect(engine.progress()).toMatchObject({ state: 'completed', final: 1 });
    // d1 (one confirmation) and two newcomers: 0.092 · 0.25 · 0.25 meets 1e-2.
    expect(engine.progress().resultsReceived).toBe(4);
    expect(engine.progress().achievedError).toBeLessThanOrEqual(1e-2);
  });

  it('adds hidden audits that look like any other lease, under opaque lease ids', () => {
    const { engine } = harness(specOf(tasksOf(1), { auditRate: 0.99, youngAuditRate: 0.99 }), {
      random: seededRandom(5),
    });
    const leases = join(engine, ['d1', 'd2', 'd3', 'd4']);
    expect(leases).toHaveLength(3); // 2 replicas and an audit
    const shape = (a: (typeof leases)[number]) => ({ ...a, leaseId: '', donor: '' });
    expect(shape(leases[0]!)).toEqual(shape(leases[1]!));
    expect(shape(leases[0]!)).toEqual(shape(leases[2]!));
    for (const l of leases) expect(l.leaseId).toMatch(/^[0-9a-z]{28}$/);
    expect(engine.progress().audits.issued).toBe(1);
    for (const l of leases) engine.reported(l.leaseId, out(1), 1);
    expect(engine.progress().audits).toEqual({ issued: 1, passed: 1, failed: 0 });
    const issued = engine.takeEvents().filter((e) => e.type === 'lease-issued');
    expect(issued.filter((e) => e.audit)).toHaveLength(1);
  });
});

describe('job engine: re-verification through the DAG', () => {
  it('re-runs dependents when a re-verified input changes', () => {
    const book = createReputationBook([trustedRecord('t1')]);
    const spec = specOf([
      { id: 'a', model: 'm', feeds: {} },
      { id: 'b', model: 'm', feeds: { x: { fromTask: 'a', output: 'y' } } },
    ]);
    const { engine } = harness(spec, { book, random: () => 0 });
    const [a] = assigns(engine.donorAvailable({ id: 't1', capabilities: caps() }));
    const [b] = assigns(engine.reported(a!.leaseId, out(1), 1));
    expect(b!.feeds.x).toEqual(i32(1));
    engine.reported(b!.leaseId, out(7), 1);
    expect(engine.progress().state).toBe('completed');
    engine.takeDelta();
    book.exclude('t1', 'caught');
    const again = ['d1', 'd2'].flatMap((id) =>
      assigns(engine.donorAvailable({ id, capabilities: caps() })),
    );
    expect(again.map((x) => x.taskId)).toEqual(['a', 'a']); // b waits for its input
    const next = again.flatMap((x) => assigns(engine.reported(x.leaseId, out(2), 1)));
    expect(next.map((x) => [x.taskId, x.feeds.x])).toEqual([
      ['b', i32(2)],
      ['b', i32(2)],
    ]);
    expect(engine.result('b')).toBeUndefined();
    const delta = engine.takeDelta();
    expect(delta.removedResults).toEqual(['b']);
    expect(delta.results.map((r) => [r.taskId, r.backers])).toEqual([['a', ['d1', 'd2']]]);
    for (const x of next) engine.reported(x.leaseId, out(8), 1);
    expect(engine.result('b')).toEqual(out(8));
    expect(engine.progress().state).toBe('completed');
  });

  it('holds a re-opened dependent while its input is re-verified, then resumes it when the input holds', () => {
    const book = createReputationBook([trustedRecord('t1')]);
    const spec = specOf([
      { id: 'a', model: 'm', feeds: {} },
      { id: 'b', model: 'm', feeds: { x: { fromTask: 'a', output: 'y' } } },
    ]);
    const { engine } = harness(spec, { book, random: () => 0 });
    const [a] = assigns(engine.donorAvailable({ id: 't1', capabilities: caps() }));
    const [b] = assigns(engine.reported(a!.leaseId, out(1), 1));
    engine.reported(b!.leaseId, out(7), 1);
    book.exclude('t1', 'caught');
    const again = ['d1', 'd2', 'd3'].flatMap((id) =>
      assigns(engine.donorAvailable({ id, capabilities: caps() })),
    );
    expect(again.map((x) => x.taskId)).toEqual(['a', 'a']); // d3 idles: b waits for a
    const next = again.flatMap((x) => assigns(engine.reported(x.leaseId, out(1), 1)));
    expect(next.map((x) => x.taskId)).toEqual(['b', 'b']);
    expect(next.every((x) => x.feeds.x !== undefined)).toBe(true);
    for (const x of next) engine.reported(x.leaseId, out(7), 1);
    expect(engine.progress().state).toBe('completed');
  });
});

describe('job engine: input', () => {
  it('refuses a spec that does not validate', () => {
    expect(() =>
      harness(specOf([{ id: 'a', model: 'm', feeds: { x: { fromTask: 'a', output: 'y' } } }])),
    ).toThrow(/invalid-job|cycle/);
  });

  it('ignores acks and reports for unknown leases', () => {
    const { engine } = harness(specOf(tasksOf(1)));
    expect(engine.acked('nope')).toEqual([]);
    expect(engine.reported('nope', out(1), 1)).toEqual([]);
    expect(engine.progress().resultsReceived).toBe(0);
  });
});

describe('job engine: reinstatement', () => {
  it('reinstates a donor excluded over a result that re-verification overturned', () => {
    const book = createReputationBook([
      ...['c1', 'c2'].map(trustedRecord),
      { ...trustedRecord('h'), audited: 0, losses: 2, witnesses: ['c3', 'c4', 'c5'] },
    ]);
    const { engine } = harness(specOf(tasksOf(1), { adaptive: false }), { book });
    const first = ['h', 'c1', 'c2'].flatMap((id) =>
      assigns(engine.donorAvailable({ id, capabilities: caps() })),
    );
    expect(first.map((l) => l.donor)).toEqual(['h', 'c1']);
    engine.reported(first[0]!.leaseId, out(5), 1);
    const [more] = assigns(engine.reported(first[1]!.leaseId, out(9), 1)); // two colluders
    engine.reported(more!.leaseId, out(9), 1);
    expect(engine.result('t0')).toEqual(out(9));
    expect(book.isExcluded('h')).toBe(true); // its third loss, a fourth credible witness
    book.exclude('c1', 'caught elsewhere');
    book.exclude('c2', 'caught elsewhere');
    const again = ['d1', 'd2'].flatMap((id) =>
      assigns(engine.donorAvailable({ id, capabilities: caps() })),
    );
    for (const l of again) engine.reported(l.leaseId, out(5), 1);
    expect(engine.result('t0')).toEqual(out(5));
    expect(book.isExcluded('h')).toBe(false);
    expect(engine.takeEvents().some((e) => e.type === 'donor-reinstated' && e.donor === 'h')).toBe(
      true,
    );
  });
});

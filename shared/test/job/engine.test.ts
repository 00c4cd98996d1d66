import { describe, expect, it } from 'vitest';
import { createReputationBook } from '../../src/job/reputation.ts';
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

describe('job engine: verification', () => {
  it('adds a replica on disagreement and accepts a clear majority without excluding anyone', () => {
    const { engine, book } = harness(specOf(tasksOf(1), { maxReplicas: 5 }));
    const leases = ['d1', 'd2', 'd3', 'd4'].flatMap((id) =>
      assigns(engine.donorAvailable({ id, capabilities: caps() })),
    );
    expect(leases).toHaveLength(2);
    engine.reported(leases[0]!.leaseId, out(1), 1);
    const [third] = assigns(engine.reported(leases[1]!.leaseId, out(2), 1));
    expect(engine.progress().disputes).toBe(1);
    const [fourth] = assigns(engine.reported(third!.leaseId, out(1), 1));
    expect(fourth).toBeDefined(); // 2 vs 1 is not enough without a trusted donor
    engine.reported(fourth!.leaseId, out(1), 1);
    expect(engine.result('t0')).toEqual(out(1));
    expect(book.get(leases[1]!.donor).disagreements).toBe(1);
    expect(book.isExcluded(leases[1]!.donor)).toBe(false);
    expect(book.get(leases[0]!.donor).creditMs).toBe(1);
  });

  it('fails a task with the evidence when no agreement comes within maxReplicas', () => {
    const { engine, clock } = harness(specOf(tasksOf(1), { maxReplicas: 3, taskDeadlineMs: 100 }));
    const leases = ['d1', 'd2', 'd3'].flatMap((id) =>
      assigns(engine.donorAvailable({ id, capabilities: caps() })),
    );
    engine.reported(leases[0]!.leaseId, out(1), 1);
    const [third] = assigns(engine.reported(leases[1]!.leaseId, out(2), 1));
    engine.reported(third!.leaseId, out(3), 1);
    expect(engine.progress().tasks.running).toBe(1); // parked: waits for a trusted tie-breaker
    clock.t = 1000;
    engine.tick();
    const p = engine.progress();
    expect(p.tasks.failed).toBe(1);
    expect(p.failed[0]!.reason).toMatch(
      /no agreement after 3 results: \[d1\] vs \[d2\] vs \[d3\].*no trusted donor/,
    );
  });

  it('gives a trusted donor single replicas, and re-verifies them when it is excluded', () => {
    const book = createReputationBook([trustedRecord('t1')]);
    const { engine } = harness(specOf(tasksOf(2)), { book });
    const solo = assigns(engine.donorAvailable({ id: 't1', capabilities: caps(2) }));
    expect(solo.map((a) => a.taskId)).toEqual(['t0', 't1']);
    for (const a of solo) engine.reported(a.leaseId, out(9), 1);
    expect(engine.progress()).toMatchObject({ state: 'completed', soloAccepted: 2 });
    book.exclude('t1', 'caught lying elsewhere');
    const again = assigns(engine.donorAvailable({ id: 'd1', capabilities: caps(2) }));
    expect(engine.progress()).toMatchObject({ state: 'running', reopened: 2 });
    expect(engine.result('t0')).toBeUndefined();
    expect(again.every((a) => a.donor === 'd1')).toBe(true);
    for (const a of [
      ...again,
      ...assigns(engine.donorAvailable({ id: 'd2', capabilities: caps(2) })),
    ]) {
      engine.reported(a.leaseId, out(5), 1);
    }
    expect(engine.result('t0')).toEqual(out(5));
    expect(engine.progress().state).toBe('completed');
    expect(engine.takeEvents().some((e) => e.type === 'donor-excluded' && e.donor === 't1')).toBe(
      true,
    );
  });

  it('excludes a donor that contradicts a firm known answer in a spot check', () => {
    const book = createReputationBook([trustedRecord('t1')]);
    const spec = specOf(tasksOf(3), { adaptive: false, probationSpotCheckRate: 0.99 });
    const { engine } = harness(spec, { book, random: () => 0 });
    const [a1] = assigns(engine.donorAvailable({ id: 't1', capabilities: caps() }));
    const [a2] = assigns(engine.donorAvailable({ id: 'p1', capabilities: caps() }));
    engine.reported(a1!.leaseId, out(3), 1);
    const acts = assigns(engine.reported(a2!.leaseId, out(3), 1));
    expect(engine.progress().spotChecks.issued).toBe(0); // no known answer existed before
    // t0 is firm now (a trusted donor and one more): p2's first lease is a check on it
    // (checks ride along with real work: t2 is still waiting for donors).
    const [check] = assigns(engine.donorAvailable({ id: 'p2', capabilities: caps() }));
    expect(check).toMatchObject({ taskId: 't0', donor: 'p2' });
    expect(engine.progress().spotChecks.issued).toBe(1);
    engine.reported(check!.leaseId, out(4), 1);
    expect(book.isExcluded('p2')).toBe(true);
    expect(engine.progress().spotChecks.failed).toBe(1);
    expect(engine.result('t0')).toEqual(out(3));
    expect(acts.length).toBeGreaterThan(0);
  });

  it('re-opens a weakly accepted result that a check contradicts', () => {
    const spec = specOf(tasksOf(3), { probationSpotCheckRate: 0.99 });
    const { engine, book } = harness(spec, { random: () => 0 });
    const leases = ['d1', 'd2'].flatMap((id) =>
      assigns(engine.donorAvailable({ id, capabilities: caps() })),
    );
    engine.reported(leases[0]!.leaseId, out(3), 1);
    engine.reported(leases[1]!.leaseId, out(3), 1);
    const [check] = assigns(engine.donorAvailable({ id: 'd3', capabilities: caps() }));
    expect(check!.taskId).toBe('t0');
    engine.reported(check!.leaseId, out(8), 1);
    const p = engine.progress();
    expect(p.reopened).toBe(1);
    // t0 ran again on its three votes; with no fourth donor on offer the 2-of-3
    // majority settles it, and d3's lost vote counts against it.
    expect(p.tasks).toMatchObject({ running: 2, verified: 1 });
    expect(engine.result('t0')).toEqual(out(3));
    expect(book.get('d3')).toMatchObject({ disagreements: 1, lostInRow: 1 });
    const types = engine.takeEvents().map((e) => e.type);
    expect(types.indexOf('task-reopened')).toBeLessThan(types.lastIndexOf('task-verified'));
  });
});

describe('job engine: re-verification through the DAG', () => {
  it('re-runs dependents when a re-verified input changes', () => {
    const book = createReputationBook([trustedRecord('t1')]);
    const spec = specOf([
      { id: 'a', model: 'm', feeds: {} },
      { id: 'b', model: 'm', feeds: { x: { fromTask: 'a', output: 'y' } } },
    ]);
    const { engine } = harness(spec, { book });
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
    expect(again.map((x) => x.taskId)).toEqual(['a', 'a']);
    expect(engine.progress().reopened).toBe(2);
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
});

describe('job engine: held-back dependents', () => {
  it('holds a re-opened dependent while its input is re-verified, then resumes it when the input holds', () => {
    const book = createReputationBook([trustedRecord('t1')]);
    const spec = specOf([
      { id: 'a', model: 'm', feeds: {} },
      { id: 'b', model: 'm', feeds: { x: { fromTask: 'a', output: 'y' } } },
    ]);
    const { engine } = harness(spec, { book });
    const [a] = assigns(engine.donorAvailable({ id: 't1', capabilities: caps() }));
    const [b] = assigns(engine.reported(a!.leaseId, out(1), 1));
    engine.reported(b!.leaseId, out(7), 1);
    book.exclude('t1', 'caught');
    const again = ['d1', 'd2', 'd3'].flatMap((id) =>
      assigns(engine.donorAvailable({ id, capabilities: caps() })),
    );
    expect(again.map((x) => x.taskId)).toEqual(['a', 'a']); // d3 idles: b waits for a
    const next = again.flatMap((x) => assigns(engine.reported(x.leaseId, out(1), 1)));
    expect(next.map((x) => [x.taskId, x.feeds.x])).toEqual([
      ['b', i32(1)],
      ['b', i32(1)],
    ]);
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
  it('reinstates a donor excluded over an answer that re-verification overturned', () => {
    const book = createReputationBook([trustedRecord('t1')]);
    const spec = specOf(tasksOf(3), { adaptive: false, probationSpotCheckRate: 0.99 });
    const { engine } = harness(spec, { book, random: () => 0 });
    const first = ['t1', 'd2'].flatMap((id) =>
      assigns(engine.donorAvailable({ id, capabilities: caps() })),
    );
    for (const a of first) engine.reported(a.leaseId, out(9), 1); // a trusted liar and its accomplice: firm
    const [check] = assigns(engine.donorAvailable({ id: 'h1', capabilities: caps() }));
    expect(check).toMatchObject({ taskId: 't0', donor: 'h1' });
    engine.reported(check!.leaseId, out(5), 1);
    expect(book.isExcluded('h1')).toBe(true);
    book.exclude('t1', 'caught elsewhere');
    let lease = assigns(engine.donorAvailable({ id: 'd3', capabilities: caps() }))[0]!;
    expect(lease.taskId).toBe('t0');
    engine.reported(lease.leaseId, out(5), 1); // d2 (9) against d3 (5): waits for another donor
    expect(engine.result('t0')).toBeUndefined();
    lease = assigns(engine.donorAvailable({ id: 'd4', capabilities: caps() }))[0]!;
    expect(lease.taskId).toBe('t0');
    // 2 against 1 and no other donor on offer: the strict majority settles it.
    engine.reported(lease.leaseId, out(5), 1);
    expect(engine.result('t0')).toEqual(out(5));
    expect(book.isExcluded('h1')).toBe(false);
    expect(engine.takeEvents().some((e) => e.type === 'donor-reinstated' && e.donor === 'h1')).toBe(
      true,
    );
  });
});

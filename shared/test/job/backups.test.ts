import { describe, expect, it } from 'vitest';
import { BACKUP_MIN_MS } from '../../src/job/engine-place.ts';
import { createReputationBook } from '../../src/job/reputation.ts';
import {
  type Assign,
  assigns,
  cancels,
  caps,
  harness,
  out,
  specOf,
  tasksOf,
  trustedRecord,
} from './helpers.ts';

/**
 * Donors d1..d4 run t0 (d1, d2) and t1 (d3, d4) in 100 ms (4 replica times
 * seen, every donor has reported), then t2 starts at 100 ms on d1 and d2.
 */
function warmedUp() {
  const h = harness(specOf(tasksOf(3), { replicas: 2, quorum: 2, taskDeadlineMs: 60_000 }));
  const { engine, clock } = h;
  const first: Assign[] = [];
  for (const id of ['d1', 'd2', 'd3', 'd4'])
    first.push(...assigns(engine.donorAvailable({ id, capabilities: caps() })));
  expect(first.map((a) => [a.taskId, a.donor])).toEqual([
    ['t0', 'd1'],
    ['t0', 'd2'],
    ['t1', 'd3'],
    ['t1', 'd4'],
  ]);
  clock.t = 100;
  const t2: Assign[] = [];
  for (const a of first) t2.push(...assigns(engine.reported(a.leaseId, out(1), 100)));
  expect(t2.map((a) => [a.taskId, a.donor])).toEqual([
    ['t2', 'd1'],
    ['t2', 'd2'],
  ]);
  for (const a of t2) engine.acked(a.leaseId);
  return { ...h, t2: t2 as [Assign, Assign] };
}

describe('job engine: backup replicas for stragglers', () => {
  it('gives an idle donor a backup of a replica running far past the usual, and cancels the leftover', () => {
    const { engine, clock, t2 } = warmedUp();
    const [fast, slow] = t2;
    clock.t = 200;
    expect(assigns(engine.reported(fast.leaseId, out(1), 100))).toEqual([]);
    // d2 is still busy: too early for a backup.
    clock.t = 100 + BACKUP_MIN_MS - 1;
    expect(assigns(engine.tick())).toEqual([]);
    clock.t = 100 + BACKUP_MIN_MS + 1;
    const [backup] = assigns(engine.tick());
    expect(backup).toMatchObject({ taskId: 't2', donor: 'd3' });
    engine.acked(backup!.leaseId);
    expect(engine.takeEvents().find((e) => e.leaseId === backup!.leaseId)?.message).toBe('backup');
    // One backup per straggling replica, and none for the backup, however long they take.
    clock.t += 10 * BACKUP_MIN_MS;
    expect(assigns(engine.tick())).toEqual([]);
    // The backup agrees with the fast replica: the task is verified, the straggler's lease cancelled.
    const after = engine.reported(backup!.leaseId, out(1), 50);
    expect(cancels(after)).toMatchObject([{ leaseId: slow.leaseId, donor: 'd2' }]);
    expect(engine.result('t2')).toEqual(out(1));
    expect(engine.progress().state).toBe('completed');
  });

  it('backs up every straggling replica, so a task whose replicas all landed on slow donors still finishes', () => {
    const { engine, clock, t2 } = warmedUp();
    clock.t = 100 + BACKUP_MIN_MS + 1;
    const backups = assigns(engine.tick());
    expect(backups.map((a) => [a.taskId, a.donor]).sort()).toEqual([
      ['t2', 'd3'],
      ['t2', 'd4'],
    ]);
    engine.reported(backups[0]!.leaseId, out(5), 40);
    const after = engine.reported(backups[1]!.leaseId, out(5), 40);
    expect(
      cancels(after)
        .map((c) => c.leaseId)
        .sort(),
    ).toEqual(t2.map((a) => a.leaseId).sort());
    expect(engine.result('t2')).toEqual(out(5));
  });

  it('needs the quorum as before: a backup that disagrees does not decide alone', () => {
    const { engine, clock, t2 } = warmedUp();
    const [fast, slow] = t2;
    engine.reported(fast.leaseId, out(1), 100);
    clock.t = 100 + BACKUP_MIN_MS + 1;
    const [backup] = assigns(engine.tick());
    const disputed = assigns(engine.reported(backup!.leaseId, out(2), 50));
    expect(engine.result('t2')).toBeUndefined();
    expect(engine.takeEvents().some((e) => e.type === 'task-disputed')).toBe(true);
    // The dispute is settled as any other: more replicas, then the majority.
    const open = [...disputed, ...assigns(engine.reported(slow.leaseId, out(1), 3000))];
    while (engine.result('t2') === undefined && open.length > 0) {
      const a = open.shift()!;
      open.push(...assigns(engine.reported(a.leaseId, out(1), 50)));
    }
    expect(engine.result('t2')).toEqual(out(1));
  });

  it('gives no backup to a donor that has not reported in this job yet (still starting)', () => {
    const { engine, clock } = harness(
      specOf(tasksOf(3), { replicas: 2, quorum: 2, taskDeadlineMs: 60_000 }),
    );
    let live = assigns(engine.donorAvailable({ id: 'd1', capabilities: caps() }));
    live.push(...assigns(engine.donorAvailable({ id: 'd2', capabilities: caps() })));
    for (let i = 0; i < 2; i++) {
      clock.t += 100;
      const next: Assign[] = [];
      for (const a of live) next.push(...assigns(engine.reported(a.leaseId, out(1), 100)));
      live = next;
    }
    for (const a of live) engine.acked(a.leaseId);
    engine.donorAvailable({ id: 'd3', capabilities: caps() });
    clock.t += 10 * BACKUP_MIN_MS;
    expect(assigns(engine.tick())).toEqual([]);
  });

  it('gives no backup to a task a trusted donor runs alone', () => {
    const book = createReputationBook([trustedRecord('d1')]);
    const { engine, clock } = harness(
      specOf(tasksOf(5), { replicas: 2, quorum: 2, taskDeadlineMs: 60_000 }),
      { book },
    );
    let live = assigns(engine.donorAvailable({ id: 'd1', capabilities: caps() }));
    for (let i = 0; i < 4; i++) {
      expect(live).toHaveLength(1); // solo: one replica each
      clock.t += 100;
      live = assigns(engine.reported(live[0]!.leaseId, out(1), 100));
    }
    expect(live.map((a) => a.taskId)).toEqual(['t4']);
    engine.acked(live[0]!.leaseId);
    engine.donorAvailable({ id: 'd2', capabilities: caps() });
    clock.t += 10 * BACKUP_MIN_MS; // past any cut-off, within the deadline
    expect(assigns(engine.tick()).filter((a) => a.taskId === 't4')).toEqual([]);
  });
});

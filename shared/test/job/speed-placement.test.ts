import { describe, expect, it } from 'vitest';
import type { Capabilities } from '../../src/contracts.ts';
import type { JobEngine } from '../../src/job/engine.ts';
import {
  backupPays,
  finishMs,
  horizonMs,
  LATE_AFTER,
  pickBySpeed,
} from '../../src/job/speed-placement.ts';
import type { EngineAction, JobEvent } from '../../src/job/types.ts';
import { seededRandom } from '../../src/platform.ts';
import { createEventQueue } from '../../src/sim/event-queue.ts';
import { caps, harness, out, specOf, tasksOf } from './helpers.ts';

interface Donor {
  readonly id: string;
  /** Compute time per task, ms. */
  readonly ms: number;
  /** Tasks it runs at once; the rest of its window queues. */
  readonly runs: number;
  /** Leases it is offered (maxConcurrency). */
  readonly window: number;
  /** Its advertised speed, tasks/s (a claim; may lie). */
  readonly claim?: number;
  /** The compute time it reports per task, ms (may lie). Default `ms`. */
  readonly reports?: number;
}

/**
 * Runs a job on honest donors of fixed speeds on a virtual clock (no
 * latency): each runs `runs` leases at a time in order, drops cancelled
 * ones, and reports. Runs on after the job ends until every donor is done.
 */
function drive(engine: JobEngine, clock: { t: number }, donors: readonly Donor[]) {
  const q = createEventQueue();
  const events: JobEvent[] = [];
  const results = new Map<string, number>();
  let endedAt: number | undefined;
  const state = new Map(
    donors.map((d) => [
      d.id,
      {
        d,
        running: 0,
        queue: [] as Extract<EngineAction, { type: 'assign' }>[],
        cancelled: new Set<string>(),
      },
    ]),
  );
  const collect = () => {
    events.push(...engine.takeEvents());
    if (endedAt === undefined && engine.state() !== 'running') endedAt = clock.t;
  };
  const start = (id: string) => {
    const s = state.get(id)!;
    while (s.running < s.d.runs && s.queue.length > 0) {
      const a = s.queue.shift()!;
      if (s.cancelled.has(a.leaseId)) continue;
      s.running++;
      q.push(clock.t + s.d.ms, () => {
        s.running--;
        if (!s.cancelled.has(a.leaseId)) {
          results.set(id, (results.get(id) ?? 0) + 1);
          const ms = s.d.reports ?? s.d.ms;
          apply(engine.reported(a.leaseId, out(Number(a.taskId.slice(1))), ms));
        }
        start(id);
      });
    }
  };
  const apply = (acts: EngineAction[]) => {
    collect();
    for (const a of acts) {
      if (a.type === 'load') continue;
      const s = state.get(a.donor)!;
      if (a.type === 'cancel') s.cancelled.add(a.leaseId);
      else {
        engine.acked(a.leaseId);
        s.queue.push(a);
        start(a.donor);
      }
    }
    collect();
  };
  for (const d of donors) {
    const c: Capabilities = {
      ...caps(d.window),
      ...(d.claim !== undefined ? { speed: { wasm: d.claim } } : {}),
    };
    apply(engine.donorAvailable({ id: d.id, capabilities: c, runs: d.runs }));
  }
  for (let e = q.pop(); e; e = q.pop()) {
    clock.t = e.at;
    e.run();
  }
  collect();
  return { events, results, endedAt: endedAt ?? Number.NaN };
}

const verdicts = (events: readonly JobEvent[], donor: string) =>
  events.filter((e) => e.type === 'lease-verdict' && e.donor === donor && e.verdict === 'accepted');

describe('speed-aware choice (pure)', () => {
  const d = (inFlight: number, taskMs: number, runs = 1, slots = 4) => ({
    inFlight,
    slots,
    runs,
    taskMs,
  });

  it('expects a lease behind its donor’s queue, runs at a time', () => {
    expect(finishMs(d(0, 10))).toBe(10);
    expect(finishMs(d(3, 10))).toBe(40);
    expect(finishMs(d(3, 10, 2))).toBe(20);
    // Two idle donors of 1 and 4 tasks per 100 ms with 10 leases out: 10+10 leases at 0.05 per ms.
    expect(horizonMs([d(5, 100), d(5, 25)], 10)).toBeCloseTo(20 / (1 / 100 + 1 / 25));
  });

  it('draws in proportion to speed while there is work for all', () => {
    const fast = d(0, 1);
    const slow = d(0, 50);
    const random = seededRandom(3);
    let n = 0;
    for (let i = 0; i < 5100; i++) {
      if (pickBySpeed([fast, slow], { horizonMs: 1e9, busyBest: Infinity, random }) === fast) n++;
    }
    expect(n / (5100 - n)).toBeGreaterThan(35);
    expect(n / (5100 - n)).toBeLessThan(70);
  });

  it('near the end passes over a slow idle donor for a fast one, and waits for a fast busy one', () => {
    const fast = d(0, 10);
    const slow = d(0, 1000);
    const random = seededRandom(1);
    for (let i = 0; i < 50; i++)
      expect(pickBySpeed([slow, fast], { horizonMs: 5, busyBest: Infinity, random })).toBe(fast);
    // Only the slow one has room; the fast one is busy but would finish sooner.
    expect(pickBySpeed([slow], { horizonMs: 50, busyBest: 20, random })).toBe('wait');
    // Enough work left for the slow one to finish within the horizon: it takes it.
    expect(pickBySpeed([slow], { horizonMs: 2000, busyBest: 20, random })).toBe(slow);
    expect(pickBySpeed([], { horizonMs: 2000, busyBest: 20, random })).toBeNull();
  });

  it('backs up a straggler only when a donor would finish well before it', () => {
    const l = { issuedAt: 0, expectedMs: 1000 };
    expect(backupPays(100, l, 100)).toBe(true); // 900 ms left, 100 ms on the backup
    expect(backupPays(600, l, 100)).toBe(false); // 2 × 600 > 900
    expect(backupPays(600, l, LATE_AFTER * 1000 + 1)).toBe(true); // late: as long again
    expect(backupPays(1200, l, LATE_AFTER * 1000 + 1)).toBe(false);
  });
});

describe('speed-aware placement in the engine', () => {
  it('gives a 50x faster donor about 50x the tasks, the slow one’s lies overridden, tasks in order', () => {
    const spec = specOf(tasksOf(2000), { replicas: 1, quorum: 1 });
    const { engine, clock } = harness(spec);
    const run = drive(engine, clock, [
      { id: 'fast', ms: 2, runs: 1, window: 4, claim: 500 },
      // Claims to be 2,000 times faster than the fast one, and reports 1 ms per task.
      { id: 'slow', ms: 100, runs: 1, window: 4, claim: 1e6, reports: 1 },
    ]);
    expect(engine.state()).toBe('completed');
    const fast = run.results.get('fast')!;
    const slow = run.results.get('slow')!;
    expect(slow).toBeGreaterThan(0); // every donor does work
    expect(fast / slow).toBeGreaterThan(30);
    expect(fast / slow).toBeLessThan(80);
    // Placement efficiency: the ideal is the tasks over the summed speed (tasks per ms).
    expect(run.endedAt / ((fast + slow) / (1 / 2 + 1 / 100))).toBeLessThan(1.1);
    // Near the end the slow donor starts nothing it would finish after the fast one could.
    const lastSlow = Math.max(
      ...run.events.filter((e) => e.type === 'lease-issued' && e.donor === 'slow').map((e) => e.at),
    );
    expect(lastSlow).toBeLessThan(run.endedAt - 100);
    // Speed picks a donor for the next task, never a task for a donor: first leases go in task order.
    const firsts: number[] = [];
    const seen = new Set<string>();
    for (const e of run.events) {
      if (e.type !== 'lease-issued' || seen.has(e.taskId!)) continue;
      seen.add(e.taskId!);
      firsts.push(Number(e.taskId!.slice(1)));
    }
    expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
  });

  it('backs up stragglers on a fast idle donor; the slow replica runs on and is credited', () => {
    const spec = specOf(tasksOf(60), { replicas: 2, quorum: 2 });
    const { engine, clock } = harness(spec);
    const run = drive(engine, clock, [
      { id: 'f1', ms: 5, runs: 1, window: 2 },
      { id: 'f2', ms: 6, runs: 1, window: 2 },
      { id: 'slow', ms: 400, runs: 1, window: 2 },
    ]);
    expect(engine.state()).toBe('completed');
    // Replicas on distinct donors, backups included.
    const pairs = run.events
      .filter((e) => e.type === 'lease-issued')
      .map((e) => `${e.taskId}/${e.donor}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    const ended = run.events.findIndex((e) => e.type === 'job-completed');
    // The slow donor's replicas finished after the job: counted as late backers, with credit.
    const late = verdicts(run.events.slice(ended), 'slow');
    expect(late.length).toBeGreaterThan(0);
    for (const v of late) expect(v.creditMs).toBe(400);
    // Every donor did counted work, and the job did not wait for the slow one's last lease.
    for (const id of ['f1', 'f2', 'slow'])
      expect(verdicts(run.events, id).length).toBeGreaterThan(0);
    expect(run.endedAt).toBeLessThan(clock.t);
    // Ideal: 120 results over 1/5 + 1/6 + 1/400 per ms ≈ 325 ms; no slow tail of 400 ms or more.
    expect(run.endedAt).toBeLessThan(400);
  });
});

/**
 * The donor agent's rules for its owner: pausing hands leases back as
 * `paused` (queued ones always, running ones when asked), a CPU share paces
 * each slot, and several submitters share the slots and the queue fairly.
 */
import { describe, expect, it } from 'vitest';
import {
  type Backend,
  createBlobExchange,
  createDonorAgent,
  createMemoryBlobCache,
  createMemoryPeerPair,
  createPeerLink,
  createTaskClient,
  type ExecRequest,
  type ExecResult,
  type Executor,
  restAfter,
  type TaskClientEvent,
  tensorFrom,
} from '../../src/index.ts';
import { createVirtualTime, flush, sha256, until } from './helpers.ts';

/** Runs resolve when released (or, with `autoMs`, after that much virtual time). */
function heldExecutor(concurrency: number, prefetch = 0) {
  const runs: { req: ExecRequest; release(): void }[] = [];
  const executor: Executor = {
    concurrency,
    prefetch,
    backends: async () => ['cpu'] as Backend[],
    close: async () => {},
    run(req) {
      return new Promise<ExecResult>((resolve) => {
        runs.push({
          req,
          release: () => resolve({ outputs: { y: req.feeds.x! }, backend: 'cpu', computeMs: 1 }),
        });
      });
    },
  };
  return { executor, runs };
}

async function grid(opts: {
  submitters: string[];
  concurrency?: number;
  maxQueued?: number;
  cpuShare?: number;
  prefetch?: number;
}) {
  const vt = createVirtualTime();
  const quiet = { deadAfterMs: 600_000, heartbeatIntervalMs: 300_000 };
  const model = new Uint8Array(1000).map((_, i) => i % 5);
  const donorBlobs = createBlobExchange({
    cache: createMemoryBlobCache(),
    sha256,
    now: vt.now,
    timers: vt.timers,
  });
  const fake = heldExecutor(opts.concurrency ?? 1, opts.prefetch ?? 0);
  const agent = createDonorAgent({
    executor: fake.executor,
    blobs: donorBlobs,
    sha256,
    now: vt.now,
    timers: vt.timers,
    ackDelayMs: 0,
    ...(opts.maxQueued !== undefined ? { maxQueued: opts.maxQueued } : {}),
    ...(opts.cpuShare !== undefined ? { cpuShare: opts.cpuShare } : {}),
  });
  const events: TaskClientEvent[] = [];
  const client = createTaskClient({
    timers: vt.timers,
    onEvent: (e) => events.push(e),
    ackTimeoutMs: 600_000,
    graceMs: 500,
  });
  /** Each submitter's feed holds its index, so a run tells whose lease it is. */
  const feedOf = (i: number) => tensorFrom('float32', [1], new Float32Array([i]));
  const subs = new Map<string, ReturnType<typeof createPeerLink>>();
  let modelHash = '';
  for (const id of opts.submitters) {
    const [pa, pb] = createMemoryPeerPair();
    const base = { now: vt.now, timers: vt.timers, ...quiet };
    const toDonor = createPeerLink({ ...base, peer: pa, remoteId: 'donor' });
    const toSubmitter = createPeerLink({ ...base, peer: pb, remoteId: id });
    const blobs = createBlobExchange({
      cache: createMemoryBlobCache(),
      sha256,
      now: vt.now,
      timers: vt.timers,
    });
    modelHash = await blobs.add(model);
    blobs.attach(toDonor);
    donorBlobs.attach(toSubmitter);
    agent.attach(toSubmitter);
    subs.set(id, toDonor);
  }
  const assign = (from: string, leaseId: string) =>
    client.assign(subs.get(from)!, {
      leaseId,
      jobId: from,
      modelHash,
      modelBytes: model.byteLength,
      feeds: { x: feedOf(opts.submitters.indexOf(from)) },
      deadlineMs: 600_000,
    });
  /** The submitter of the executor's i-th run. */
  const whose = (i: number) => {
    const x = fake.runs[i]!.req.feeds.x!;
    return opts.submitters[new Float32Array(x.data.slice().buffer)[0]!]!;
  };
  const errors = (code: string) =>
    events.filter((e) => e.type === 'errored' && e.error.code === code).map((e) => e.leaseId);
  return { vt, agent, fake, events, assign, errors, whose };
}

describe('donor agent: pausing never loses work', () => {
  it('hands queued leases back as paused at once, lets the running one finish, and refuses new ones until resumed', async () => {
    const s = await grid({ submitters: ['s1'], concurrency: 1 });
    const first = s.assign('s1', 'run');
    const queued = ['q1', 'q2'].map((id) => s.assign('s1', id));
    await until(() => expect(s.fake.runs).toHaveLength(1));
    s.agent.pause({ reason: 'on battery' });
    expect(s.agent.status()).toMatchObject({ paused: true, pauseReason: 'on battery' });
    const back = await Promise.all(queued);
    expect(back.map((e) => e.type)).toEqual(['errored', 'errored']);
    expect(s.errors('paused')).toEqual(['q1', 'q2']);
    // Heartbeats now offer no room.
    expect(s.agent.load().limit).toBe(0);
    const refused = await s.assign('s1', 'late');
    expect(refused.type === 'errored' && refused.error.code).toBe('paused');
    expect(refused.type === 'errored' && refused.error.message).toMatch(/on battery/);
    // The running lease finishes and reports as usual.
    s.fake.runs[0]!.release();
    expect((await first).type).toBe('reported');
    expect(s.fake.runs).toHaveLength(1);
    s.agent.resume();
    const again = s.assign('s1', 'after');
    await until(() => expect(s.fake.runs).toHaveLength(2));
    s.fake.runs[1]!.release();
    expect((await again).type).toBe('reported');
  });

  it('with handBackRunning, hands the running lease back at once and drops its late result', async () => {
    const s = await grid({ submitters: ['s1'], concurrency: 2 });
    const running = ['r1', 'r2'].map((id) => s.assign('s1', id));
    const queued = s.assign('s1', 'q1');
    await until(() => expect(s.fake.runs).toHaveLength(2));
    s.agent.pause({ handBackRunning: true, reason: 'machine in use' });
    const evs = await Promise.all([...running, queued]);
    expect(evs.map((e) => e.type)).toEqual(['errored', 'errored', 'errored']);
    expect(s.errors('paused').sort()).toEqual(['q1', 'r1', 'r2']);
    for (const r of s.fake.runs) r.release();
    await flush(100);
    expect(s.events.filter((e) => e.type === 'reported')).toHaveLength(0);
    // The slots free up only when the runs really end.
    expect(s.agent.load().running).toBe(0);
    expect(s.agent.status().submitters).toBe(0);
  });
});

describe('donor agent: CPU share', () => {
  it('rests each slot b·(1−s)/s after a run of b ms, so a slot is busy about s of the time', async () => {
    expect(restAfter(100, 0.5)).toBe(100);
    expect(restAfter(100, 0.25)).toBe(300);
    expect(restAfter(100, 1)).toBe(0);
    const s = await grid({ submitters: ['s1'], concurrency: 1, cpuShare: 0.25, prefetch: 8 });
    for (let i = 0; i < 5; i++) void s.assign('s1', `l${i}`);
    await until(() => expect(s.fake.runs).toHaveLength(1));
    // Each run takes 100 ms of virtual time; the slot must then rest 300 ms.
    for (let i = 0; i < 4; i++) {
      await s.vt.advance(100);
      s.fake.runs[i]!.release();
      await flush(50);
      await s.vt.advance(299);
      expect(s.fake.runs).toHaveLength(i + 1);
      await s.vt.advance(1);
      await until(() => expect(s.fake.runs).toHaveLength(i + 2));
    }
    // The prefetch is not used under a share: the executor never held more than its slot.
    expect(s.agent.status().cpuShare).toBe(0.25);
    expect(s.agent.status().measuredShare).toBeGreaterThan(0.2);
    expect(s.agent.status().measuredShare).toBeLessThan(0.3);
  });

  it('changes live, and refuses a share out of range with a clear error', async () => {
    const s = await grid({ submitters: ['s1'], concurrency: 1, cpuShare: 0.1 });
    for (let i = 0; i < 3; i++) void s.assign('s1', `l${i}`);
    await until(() => expect(s.fake.runs).toHaveLength(1));
    await s.vt.advance(100);
    s.fake.runs[0]!.release();
    await flush(50);
    // Resting 900 ms at 10 %; raising the share to 100 % does not cut a rest already begun…
    s.agent.setCpuShare(1);
    await s.vt.advance(899);
    expect(s.fake.runs).toHaveLength(1);
    await s.vt.advance(1);
    await until(() => expect(s.fake.runs).toHaveLength(2));
    // …but the next run follows at once.
    s.fake.runs[1]!.release();
    await until(() => expect(s.fake.runs).toHaveLength(3));
    expect(() => s.agent.setCpuShare(0)).toThrow(/not in 0.01..1/);
    expect(() => s.agent.setCpuShare(1.5)).toThrow(/not in 0.01..1/);
    expect(s.agent.status().cpuShare).toBe(1);
  });
});

describe('donor agent: fair share between submitters', () => {
  it('takes submitters in turn however deep each one pipelines', async () => {
    const s = await grid({ submitters: ['greedy', 'modest'], concurrency: 1 });
    for (let i = 0; i < 12; i++) void s.assign('greedy', `g${i}`);
    for (let i = 0; i < 3; i++) void s.assign('modest', `m${i}`);
    await until(() => expect(s.fake.runs).toHaveLength(1));
    const order: string[] = [];
    for (let i = 0; i < 8; i++) {
      await until(() => expect(s.fake.runs.length).toBeGreaterThan(i));
      order.push(s.whose(i));
      s.fake.runs[i]!.release();
    }
    // g0 and g1 were in line before modest's leases arrived; then strictly in turn until modest has none.
    expect(order).toEqual([
      'greedy',
      'greedy',
      'modest',
      'greedy',
      'modest',
      'greedy',
      'modest',
      'greedy',
    ]);
  });

  it('offers each present submitter an equal part of the queue, and a full queue makes room for a newcomer from the one holding most', async () => {
    const s = await grid({ submitters: ['greedy', 'late'], concurrency: 1, maxQueued: 4 });
    for (let i = 0; i < 5; i++) void s.assign('greedy', `g${i}`);
    await until(() => expect(s.fake.runs).toHaveLength(1));
    expect(s.agent.load().queued).toBe(4);
    const refused = await s.assign('greedy', 'g5');
    expect(refused.type === 'errored' && refused.error.code).toBe('busy');
    // The newcomer gets in; greedy's newest queued lease goes back as busy (re-issued without charge).
    void s.assign('late', 'l0');
    void s.assign('late', 'l1');
    await until(() => expect(s.errors('busy')).toEqual(['g5', 'g4', 'g3']));
    expect(s.agent.load().queued).toBe(4);
    // Once both are present, each is offered 1 slot + 4/2 queued in its heartbeats.
    expect(s.agent.status().submitters).toBe(2);
  });
});

import { describe, expect, it } from 'vitest';
import {
  createDonorNode,
  createJobRunner,
  createMemoryJobStore,
  createReputationBook,
  type JobEvent,
  type JobOutcome,
  type JobRunnerOptions,
  type JobSpec,
  type JobStore,
  prepareJob,
  tensorFrom,
  tensorValues,
} from '../../src/index.ts';
import { createVirtualTime, sha256, sleep, until } from '../peer/helpers.ts';
import { createMemoryGrid, donorCaps, plusOneExecutor } from './memory-grid.ts';

const model = new Uint8Array([7, 7, 7, 7]);

async function chainSpec(n: number): Promise<JobSpec> {
  const hash = await sha256(model);
  const tasks = Array.from({ length: n }, (_, i) => ({
    id: `t${i}`,
    model: hash,
    feeds: { x: { tensor: tensorFrom('int32', [1], new Int32Array([i * 10])) } },
  }));
  // One dependent task: fed by t0's output.
  tasks.push({ id: 'dep', model: hash, feeds: { x: { fromTask: 't0', output: 'y' } } } as never);
  // Runner mechanics on two or three newcomer donors: a target error two of them meet.
  return { name: 'chain', models: { [hash]: model }, tasks, policy: { targetError: 0.25 } };
}

/** Donors whose runs take `runMs` of virtual time each (0: none). */
function setup(donors: number, liars = 0, runMs = 0) {
  const vt = createVirtualTime();
  const grid = createMemoryGrid({ ...vt, sha256 });
  const runs = new Map<number, number>();
  for (let i = 0; i < donors; i++) {
    const peer = grid.join(`d${i}`, donorCaps);
    createDonorNode({
      peer,
      executor: plusOneExecutor(
        runs,
        i < liars,
        runMs > 0 ? { timers: vt.timers, ms: runMs } : undefined,
      ),
      sha256,
      timers: vt.timers,
      meshSize: 0,
    });
  }
  const submitter = grid.join('s', { ...donorCaps, maxConcurrency: 0 });
  return { vt, grid, runs, submitter };
}

async function start(
  env: ReturnType<typeof setup>,
  spec: JobSpec,
  store: JobStore,
  onEvent?: (ev: JobEvent) => void,
  localAnchor?: JobRunnerOptions['localAnchor'],
  maxInputsPerCommit?: number,
) {
  const reputation = createReputationBook();
  const prepared = await prepareJob({
    spec,
    store,
    sha256,
    now: env.vt.now,
    random: () => 0.5,
    reputation,
  });
  const runner = createJobRunner({
    peer: env.submitter,
    engine: prepared.engine,
    spec,
    store,
    reputation,
    now: env.vt.now,
    timers: env.vt.timers,
    ...(onEvent ? { onEvent } : {}),
    ...(localAnchor ? { localAnchor } : {}),
    ...(maxInputsPerCommit ? { maxInputsPerCommit } : {}),
  });
  let outcome: JobOutcome | undefined;
  void runner.done.then((o) => {
    outcome = o;
  });
  return { runner, prepared, outcome: () => outcome };
}

/** A store that holds each commit until the test lets it through (`held`). */
function heldStore(): {
  store: JobStore;
  held: (() => void)[];
  inner: ReturnType<typeof createMemoryJobStore>;
} {
  const inner = createMemoryJobStore();
  const held: (() => void)[] = [];
  const store: JobStore = {
    ...inner,
    commit: (...args) =>
      new Promise<void>((resolve, reject) => {
        held.push(() => inner.commit(...args).then(resolve, reject));
      }),
  };
  return { store, held, inner };
}

/** Advances until the results received stop moving (and some came); returns how many. */
async function untilStalled(
  env: ReturnType<typeof setup>,
  runner: { progress(): { resultsReceived: number } },
): Promise<number> {
  let received = -1;
  for (let stable = 0, i = 0; stable < 25 && i < 2000; i++) {
    await env.vt.advance(20);
    await sleep(2); // donors hash with WebCrypto, in real time
    const now = runner.progress().resultsReceived;
    stable = now === received && now > 0 ? stable + 1 : 0;
    received = now;
  }
  return received;
}

describe('job runner', () => {
  it('runs a job with replicas on in-memory donors, feeds dependents, commits everything', async () => {
    const env = setup(3);
    const spec = await chainSpec(5);
    const store = createMemoryJobStore();
    const run = await start(env, spec, store);
    await until(async () => {
      await env.vt.advance(20);
      expect(run.outcome()).toBeDefined();
    });
    const out = run.outcome()!;
    expect(out.state).toBe('completed');
    for (let i = 0; i < 5; i++) {
      expect(Array.from(tensorValues(out.results.get(`t${i}`)!.y!) as Int32Array)).toEqual([
        i * 10 + 1,
      ]);
    }
    expect(Array.from(tensorValues(out.results.get('dep')!.y!) as Int32Array)).toEqual([2]);
    // Two replicas each (default policy) on distinct donors.
    expect(out.progress.resultsReceived).toBeGreaterThanOrEqual(12);
    const snap = await store.loadSnapshot(out.jobId);
    expect(snap?.job.state).toBe('completed');
    expect(snap?.results.map((r) => r.taskId).sort()).toEqual([
      'dep',
      't0',
      't1',
      't2',
      't3',
      't4',
    ]);
  });

  it('tells of a verified task only once the store holds its result', async () => {
    const env = setup(2);
    const spec = await chainSpec(6);
    const { store, held, inner } = heldStore();
    const heard: string[] = [];
    const run = await start(env, spec, store, (ev) => {
      if (ev.type === 'task-verified') heard.push(ev.taskId!);
    });
    await until(async () => {
      await env.vt.advance(5);
      expect(run.runner.progress().tasks.verified).toBeGreaterThanOrEqual(2);
    });
    // Verified in memory, nothing committed yet: nothing told.
    expect(heard).toEqual([]);
    for (let i = 0; i < 500 && !run.outcome(); i++) {
      for (const release of held.splice(0)) release();
      await env.vt.advance(5);
      await sleep(2); // donors hash with WebCrypto, in real time
      // Whatever was told is in the store already.
      const snap = await inner.loadSnapshot(run.prepared.jobId);
      const stored = new Set(snap?.results.map((r) => r.taskId));
      for (const id of heard) expect(stored.has(id)).toBe(true);
    }
    expect(run.outcome()?.state).toBe('completed');
    expect([...heard].sort()).toEqual(['dep', 't0', 't1', 't2', 't3', 't4', 't5']);
  });

  it('holds back new work while the store has not caught up (backpressure), then finishes', async () => {
    const env = setup(3);
    const spec = await chainSpec(300);
    const { store, held } = heldStore();
    const limit = 100;
    const run = await start(env, spec, store, () => {}, undefined, limit);
    // With the first commit held, inputs stop at the limit: results stop coming in.
    const received = await untilStalled(env, run.runner);
    expect(received).toBeGreaterThan(0);
    // At most `limit` inputs before the first (deferred) commit starts, and `limit` while it is held.
    expect(received).toBeLessThanOrEqual(2 * limit);
    expect(run.runner.progress().tasks.verified).toBeLessThan(301);
    for (let i = 0; i < 2000 && !run.outcome(); i++) {
      for (const release of held.splice(0)) release();
      await env.vt.advance(5);
      await sleep(1);
    }
    expect(run.outcome()?.state).toBe('completed');
    expect(run.outcome()?.progress.tasks.verified).toBe(301);
  });

  it('a stop under backpressure takes in every report that waited first', async () => {
    const env = setup(3);
    const spec = await chainSpec(300);
    const { store, held } = heldStore();
    const run = await start(env, spec, store, () => {}, undefined, 100);
    const received = await untilStalled(env, run.runner);
    const ran = [...env.runs.values()].reduce((a, b) => a + b, 0);
    expect(ran).toBeGreaterThan(received); // reports wait in the runner's inbox
    let stopped = false;
    void run.runner.stop().then(() => {
      stopped = true;
    });
    for (let i = 0; i < 2000 && !stopped; i++) {
      for (const release of held.splice(0)) release();
      await env.vt.advance(5);
      await sleep(1);
    }
    expect(stopped).toBe(true);
    expect(run.runner.progress().resultsReceived).toBe(ran);
  });

  it('resumes from the store: tasks verified before a stop are not run again', async () => {
    // Runs take time, so the stop comes while the job is under way.
    const env = setup(2, 0, 5);
    const spec = await chainSpec(12);
    const store = createMemoryJobStore();
    const first = await start(env, spec, store);
    await until(async () => {
      await env.vt.advance(1);
      expect(first.runner.progress().tasks.verified).toBeGreaterThanOrEqual(3);
    });
    await first.runner.stop();
    const snap = await store.loadSnapshot(first.prepared.jobId);
    const before = snap!.tasks.filter((t) => t.state === 'verified').map((t) => t.taskId);
    expect(before.length).toBeGreaterThanOrEqual(3);
    expect(before.length).toBeLessThan(13);
    const runsAtStop = new Map(env.runs);

    const second = await start(env, spec, store);
    expect(second.prepared.resumed).toBe(true);
    await until(async () => {
      await env.vt.advance(20);
      expect(second.outcome()?.state).toBe('completed');
    });
    // Runs that happened after the stop, per input value (task i has input i*10; dep has 1).
    for (const id of before) {
      if (id === 'dep') continue;
      const x = Number(id.slice(1)) * 10;
      expect(env.runs.get(x) ?? 0).toBe(runsAtStop.get(x) ?? 0);
    }
    expect(second.outcome()!.results.size).toBe(13);
  });

  it('reports a job restored already finished without contacting donors', async () => {
    const env = setup(2);
    const spec = await chainSpec(2);
    const store = createMemoryJobStore();
    const first = await start(env, spec, store);
    await until(async () => {
      await env.vt.advance(20);
      expect(first.outcome()?.state).toBe('completed');
    });
    const total = [...env.runs.values()].reduce((a, b) => a + b, 0);
    const again = await start(env, spec, store);
    await until(async () => {
      await env.vt.advance(1);
      expect(again.outcome()?.state).toBe('completed');
    });
    expect(again.outcome()!.results.size).toBe(3);
    expect([...env.runs.values()].reduce((a, b) => a + b, 0)).toBe(total);
  });

  it('runs its own executor as an anchor: the default target is met on two donors, a liar is caught', async () => {
    const env = setup(2, 1); // d0 lies
    const hash = await sha256(model);
    const tasks = Array.from({ length: 8 }, (_, i) => ({
      id: `t${i}`,
      model: hash,
      feeds: { x: { tensor: tensorFrom('int32', [1], new Int32Array([i])) } },
    }));
    const spec: JobSpec = { name: 'anchored', models: { [hash]: model }, tasks };
    const own = new Map<number, number>();
    const run = await start(env, spec, createMemoryJobStore(), undefined, {
      executor: plusOneExecutor(own),
      backend: 'cpu',
    });
    await until(async () => {
      await env.vt.advance(20);
      expect(run.outcome()?.state).toBe('completed');
    });
    const out = run.outcome()!;
    for (let i = 0; i < 8; i++) {
      expect(Array.from(tensorValues(out.results.get(`t${i}`)!.y!) as Int32Array)).toEqual([i + 1]);
    }
    expect(out.progress.achievedError).toBeLessThanOrEqual(out.progress.targetError);
    expect(out.progress.anchors.donors).toEqual(['s']);
    expect(out.progress.anchors.results).toBeGreaterThan(0);
    expect(out.progress.excluded.map((e) => e.donor)).toEqual(['d0']);
    // Every anchor result came from the own executor (a run whose lease was cancelled counts no result).
    expect([...own.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(
      out.progress.anchors.results,
    );
  });
});

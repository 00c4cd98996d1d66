import type { ExecRequest } from '@peergrid/shared';
import { PeerGridError, tensorFrom } from '@peergrid/shared';
import { describe, expect, it } from 'vitest';
import { localWorkerHandle } from '../src/exec/run-inbox.ts';
import { createWorkerPool, type WorkerHandle } from '../src/exec/worker-pool.ts';
import type {
  OrtWorkerApi,
  PoolToWorker,
  WorkerRepliesMessage,
  WorkerRunRequest,
} from '../src/exec/worker-protocol.ts';
import { NEED_MODEL } from '../src/exec/worker-protocol.ts';
import { fakeTimers } from './fake-timers.ts';

/**
 * In-memory workers (the real run inbox around a fake `run`, messages
 * structured-cloned as over a port): `behave` decides each run's reply;
 * every worker, run and message is recorded.
 */
function fakeWorkers(
  behave: (
    req: WorkerRunRequest,
    worker: number,
  ) => Promise<Awaited<ReturnType<OrtWorkerApi['run']>>>,
) {
  const log: { worker: number; hadModel: boolean; x: number }[] = [];
  const posts: { worker: number; msg: PoolToWorker }[] = [];
  const replies: { worker: number; msg: WorkerRepliesMessage }[] = [];
  const terminated: number[] = [];
  const warmed: number[] = [];
  let count = 0;
  const helds: Set<string>[] = [];
  const spawn = (): WorkerHandle => {
    const id = count++;
    const held = new Set<string>();
    helds.push(held);
    const api: OrtWorkerApi = {
      init: async (o) => ({
        backends: o.gpu ? ['webgpu', 'wasm'] : ['wasm'],
        threads: o.threads,
      }),
      run: async (req) => {
        const x = req.feeds.x ? new Float32Array(req.feeds.x.data.slice().buffer)[0] : Number.NaN;
        log.push({ worker: id, hadModel: req.model !== undefined, x: x ?? Number.NaN });
        if (!req.model && !held.has(req.modelHash))
          return { ok: false, error: { code: NEED_MODEL, message: 'evicted' } };
        held.add(req.modelHash);
        return behave(req, id);
      },
      inspect: async () => ({
        ok: true,
        value: { inputs: [{ name: 'x', type: 'float32', shape: [1] }], outputs: ['y'] },
      }),
      warm: async () => {
        warmed.push(id);
        return { ok: true, value: undefined };
      },
    };
    const local = localWorkerHandle(api, () => terminated.push(id));
    return {
      ...local,
      post: (msg) => {
        posts.push({ worker: id, msg });
        local.post(msg);
      },
      onReplies: (fn) =>
        local.onReplies((msg) => {
          replies.push({ worker: id, msg });
          fn(msg);
        }),
    };
  };
  return {
    spawn,
    log,
    posts,
    replies,
    terminated,
    warmed,
    spawned: () => count,
    evictAll: () => {
      for (const h of helds) h.clear();
    },
  };
}

const req = (over: Partial<ExecRequest> = {}): ExecRequest => ({
  modelHash: 'm1',
  model: new Uint8Array(10),
  feeds: { x: tensorFrom('float32', [1], new Float32Array([2])) },
  timeoutMs: 1000,
  ...over,
});
const ok = (worker: number) =>
  Promise.resolve({
    ok: true as const,
    value: {
      outputs: { y: tensorFrom('int32', [1], new Int32Array([worker])) },
      backend: 'wasm' as const,
      computeMs: 5,
    },
  });
const init = { wasmPaths: '/ort/', threads: 1, gpu: false };
/** Lets the in-memory workers' messages (a task each way) and their runs go through. */
const flush = async () => {
  for (let i = 0; i < 6; i++) await new Promise((r) => setTimeout(r, 0));
};

describe('worker pool', () => {
  it('runs tasks and sends a model to a worker only once', async () => {
    const w = fakeWorkers((_, id) => ok(id));
    const t = fakeTimers();
    const pool = createWorkerPool({ size: 1, init, spawn: w.spawn, timers: t.timers });
    const a = await pool.run(req());
    const b = await pool.run(req());
    expect(a.outputs.y?.data).toEqual(b.outputs.y?.data);
    expect(w.log.map((l) => l.hadModel)).toEqual([true, false]);
    expect(pool.state()).toMatchObject({ size: 1, busy: 0, queued: 0, killed: 0 });
    expect(t.pending()).toBe(0);
  });

  it('warms its workers ahead of the first task, and runs the task on a warm one', async () => {
    const w = fakeWorkers((_, id) => ok(id));
    const pool = createWorkerPool({ size: 2, init, spawn: w.spawn, timers: fakeTimers().timers });
    expect(w.spawned()).toBe(0); // lazy until asked
    await pool.warm();
    expect(w.spawned()).toBe(2);
    expect([...w.warmed].sort()).toEqual([0, 1]);
    await pool.run(req());
    expect(w.spawned()).toBe(2); // no new worker for the task
    await pool.close();
    await pool.warm(); // closed: nothing starts
    expect(w.spawned()).toBe(2);
  });

  it('runs up to size tasks at once and queues the rest', async () => {
    const gates: (() => void)[] = [];
    const w = fakeWorkers((_, id) => new Promise((res) => gates.push(() => void ok(id).then(res))));
    const pool = createWorkerPool({ size: 2, init, spawn: w.spawn, timers: fakeTimers().timers });
    const runs = [pool.run(req()), pool.run(req()), pool.run(req())];
    await flush();
    expect(pool.state()).toMatchObject({ busy: 2, queued: 1 });
    for (let i = 0; i < 3; i++) {
      gates.shift()?.();
      await flush();
    }
    const out = await Promise.all(runs);
    expect(out).toHaveLength(3);
    expect(pool.state()).toMatchObject({ busy: 0, queued: 0 });
  });

  it('kills a worker past its deadline, replaces it, and keeps going', async () => {
    let first = true;
    const w = fakeWorkers((_, id) => {
      if (first) {
        first = false;
        return new Promise(() => {}); // hangs forever
      }
      return ok(id);
    });
    const t = fakeTimers();
    const pool = createWorkerPool({ size: 1, init, spawn: w.spawn, timers: t.timers });
    const hung = pool.run(req({ timeoutMs: 500 }));
    await flush();
    t.advance(499);
    expect(w.terminated).toEqual([]);
    t.advance(1);
    await expect(hung).rejects.toMatchObject({ code: 'timeout' });
    expect(w.terminated).toEqual([0]);
    expect(w.spawned()).toBe(2);
    const next = await pool.run(req());
    expect(next.outputs.y?.data).toEqual(new Uint8Array(new Int32Array([1]).buffer));
    expect(pool.state().killed).toBe(1);
  });

  it('passes worker errors on as PeerGridError codes', async () => {
    const w = fakeWorkers(async () => ({
      ok: false,
      error: { code: 'bad-input', message: 'input "x" must be int32' },
    }));
    const pool = createWorkerPool({ size: 1, init, spawn: w.spawn, timers: fakeTimers().timers });
    const e = await pool.run(req()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PeerGridError);
    expect(e).toMatchObject({ code: 'bad-input', message: 'input "x" must be int32' });
  });

  it('resends the model when a worker evicted it', async () => {
    const w = fakeWorkers((_, id) => ok(id));
    const pool = createWorkerPool({ size: 1, init, spawn: w.spawn, timers: fakeTimers().timers });
    await pool.run(req());
    w.evictAll();
    const again = await pool.run(req());
    expect(again.backend).toBe('wasm');
    expect(w.log.map((l) => l.hadModel)).toEqual([true, false, true]);
  });

  it('refuses oversized models and malformed feeds before queueing', async () => {
    const w = fakeWorkers((_, id) => ok(id));
    const pool = createWorkerPool({
      size: 1,
      init,
      spawn: w.spawn,
      timers: fakeTimers().timers,
      limits: { maxModelBytes: 5, maxInputBytes: 100 },
    });
    await expect(pool.run(req())).rejects.toMatchObject({ code: 'too-large' });
    const small = createWorkerPool({ size: 1, init, spawn: w.spawn, timers: fakeTimers().timers });
    const broken = { x: { dtype: 'float32' as const, dims: [2], data: new Uint8Array(4) } };
    await expect(small.run(req({ feeds: broken }))).rejects.toMatchObject({ code: 'bad-input' });
    expect(w.log).toHaveLength(0);
  });

  it('resizes, switches GPU with fresh workers, and closes', async () => {
    const w = fakeWorkers((_, id) => ok(id));
    const pool = createWorkerPool({ size: 2, init, spawn: w.spawn, timers: fakeTimers().timers });
    await pool.run(req());
    expect(await pool.backends()).toEqual(['wasm']);
    pool.resize(1);
    expect(pool.concurrency).toBe(1);
    pool.setGpu(true);
    expect(await pool.backends()).toEqual(['webgpu', 'wasm']);
    await pool.close();
    await expect(pool.run(req())).rejects.toMatchObject({ code: 'backend-unavailable' });
    expect(new Set(w.terminated).size).toBe(w.spawned());
  });

  it('inspects a model in a throwaway worker', async () => {
    const w = fakeWorkers((_, id) => ok(id));
    const pool = createWorkerPool({ size: 1, init, spawn: w.spawn, timers: fakeTimers().timers });
    const info = await pool.inspect(new Uint8Array(3));
    expect(info.inputs[0]?.name).toBe('x');
    expect(w.terminated).toContain(w.spawned() - 1);
  });
});

/** A request whose feed `x` is `n` (the fake workers log it, so runs can be told apart). */
const xreq = (n: number, over: Partial<ExecRequest> = {}) =>
  req({ feeds: { x: tensorFrom('float32', [1], new Float32Array([n])) }, ...over });
const runsPosted = (w: ReturnType<typeof fakeWorkers>) =>
  w.posts.flatMap((p) => (p.msg.type === 'runs' ? [p.msg.runs.length] : []));

describe('worker pool batching', () => {
  it('sends a burst of runs in one message per worker and gets their results in one', async () => {
    const w = fakeWorkers((_, id) => ok(id));
    const pool = createWorkerPool({ size: 2, init, spawn: w.spawn, timers: fakeTimers().timers });
    expect(pool.prefetch).toBe(2 * 7);
    const out = await Promise.all(Array.from({ length: 16 }, (_, i) => pool.run(xreq(i))));
    expect(out).toHaveLength(16);
    // 8 runs to each worker in one message; only each worker's first run carries the model.
    expect(runsPosted(w)).toEqual([8, 8]);
    expect(w.log.filter((l) => l.hadModel).map((l) => l.worker)).toEqual([0, 1]);
    expect(w.replies.map((r) => r.msg.replies.length)).toEqual([8, 8]);
    // Each worker ran its share in the order sent.
    expect(w.log.filter((l) => l.worker === 0).map((l) => l.x)).toEqual([
      0, 2, 4, 6, 8, 10, 12, 14,
    ]);
    expect(pool.state()).toMatchObject({ busy: 0, queued: 0 });
  });

  it('tops a worker up once it is down to a quarter of a batch, not per run', async () => {
    const w = fakeWorkers((_, id) => ok(id));
    const pool = createWorkerPool({ size: 1, init, spawn: w.spawn, timers: fakeTimers().timers });
    await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run(xreq(i))));
    expect(runsPosted(w)).toEqual([8, 8, 4]);
    expect(w.log.map((l) => l.x)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('under a steady stream (a new run per result) sends runs a batch at a time', async () => {
    const gates: (() => void)[] = [];
    const w = fakeWorkers((_, id) => new Promise((res) => gates.push(() => void ok(id).then(res))));
    const pool = createWorkerPool({ size: 1, init, spawn: w.spawn, timers: fakeTimers().timers });
    const total = 24;
    let next = 0;
    let finished = 0;
    // As the donor agent does: one run handed over as each one ends, 8 in flight.
    const feed = (): void => {
      const n = next++;
      if (n >= total) return;
      void pool.run(xreq(n)).then(() => {
        finished++;
        feed();
      });
    };
    for (let i = 0; i < 8; i++) feed();
    while (finished < total) {
      gates.shift()?.();
      await flush();
    }
    // Topped up when down to 2: with the 5 handed over since (the 6th result's one comes after).
    expect(runsPosted(w)).toEqual([8, 5, 5, 5, 1]);
    expect(w.log.map((l) => l.x)).toEqual(Array.from({ length: total }, (_, i) => i));
  });

  it('transfers outputs back instead of copying them', async () => {
    const made: Uint8Array[] = [];
    const w = fakeWorkers(async () => {
      const y = tensorFrom('int32', [2], new Int32Array([7, 8]));
      made.push(y.data);
      return { ok: true, value: { outputs: { y }, backend: 'wasm', computeMs: 1 } };
    });
    const pool = createWorkerPool({ size: 1, init, spawn: w.spawn, timers: fakeTimers().timers });
    const [a, b] = await Promise.all([pool.run(xreq(1)), pool.run(xreq(2))]);
    const y = a?.outputs.y?.data ?? new Uint8Array();
    expect(Array.from(new Int32Array(y.slice().buffer))).toEqual([7, 8]);
    expect(b?.outputs.y?.data.byteLength).toBe(8);
    // The worker's own buffers moved to the page (detached there).
    expect(made.map((d) => d.byteLength)).toEqual([0, 0]);
  });

  it('returns a finished run within 2 ms while the next one is still running', async () => {
    let gate: (() => void) | null = null;
    const w = fakeWorkers((r, id) =>
      new Float32Array(r.feeds.x?.data.slice().buffer as ArrayBuffer)[0] === 2
        ? new Promise((res) => (gate = () => void ok(id).then(res)))
        : ok(id),
    );
    const pool = createWorkerPool({ size: 1, init, spawn: w.spawn, timers: fakeTimers().timers });
    let firstDone = false;
    const first = pool.run(xreq(1)).then((r) => {
      firstDone = true;
      return r;
    });
    const second = pool.run(xreq(2));
    await new Promise((r) => setTimeout(r, 30));
    expect(firstDone).toBe(true);
    expect(w.replies).toHaveLength(1);
    expect(gate).not.toBeNull();
    (gate as unknown as () => void)();
    await Promise.all([first, second]);
    expect(w.replies.map((r) => r.msg.replies.length)).toEqual([1, 1]);
  });

  it('fails a runaway in a batch alone: the runs behind it go to a fresh worker', async () => {
    const w = fakeWorkers((r, id) =>
      new Float32Array(r.feeds.x?.data.slice().buffer as ArrayBuffer)[0] === 2
        ? new Promise(() => {}) // runs for ever
        : ok(id),
    );
    const t = fakeTimers();
    const pool = createWorkerPool({ size: 1, init, spawn: w.spawn, timers: t.timers });
    const runs = [1, 2, 3, 4].map((n) =>
      pool.run(xreq(n, { timeoutMs: 500 })).then(
        (r) => ({ n, worker: new Int32Array(r.outputs.y?.data.slice().buffer as ArrayBuffer)[0] }),
        (e: PeerGridError) => ({ n, code: e.code }),
      ),
    );
    await flush();
    expect(runsPosted(w)).toEqual([4]);
    expect(pool.state()).toMatchObject({ busy: 1, queued: 2 });
    t.advance(499);
    expect(w.terminated).toEqual([]);
    t.advance(1);
    expect(await Promise.all(runs)).toEqual([
      { n: 1, worker: 0 },
      { n: 2, code: 'timeout' },
      { n: 3, worker: 1 },
      { n: 4, worker: 1 },
    ]);
    expect(w.terminated).toEqual([0]);
    expect(w.spawned()).toBe(2);
    expect(pool.state().killed).toBe(1);
    expect(t.pending()).toBe(0);
  });

  it('counts a run’s deadline from its start, not from when it was sent', async () => {
    let gate: (() => void) | null = null;
    const w = fakeWorkers((r, id) => {
      const x = new Float32Array(r.feeds.x?.data.slice().buffer as ArrayBuffer)[0];
      if (x === 1) return new Promise((res) => (gate = () => void ok(id).then(res)));
      return new Promise(() => {}); // the second runs for ever
    });
    const t = fakeTimers();
    const pool = createWorkerPool({ size: 1, init, spawn: w.spawn, timers: t.timers });
    const a = pool.run(xreq(1, { timeoutMs: 500 }));
    const b = pool.run(xreq(2, { timeoutMs: 500 })).catch((e: PeerGridError) => e.code);
    await flush();
    t.advance(400);
    (gate as unknown as () => void)();
    await a;
    await flush();
    t.advance(400); // 800 since both were sent, 400 since the second started
    expect(w.terminated).toEqual([]);
    t.advance(100);
    expect(await b).toBe('timeout');
    expect(w.terminated).toEqual([0]);
  });

  it('tells when a run starts: the next one when the one before it reported', async () => {
    const gates: (() => void)[] = [];
    const w = fakeWorkers((_, id) => new Promise((res) => gates.push(() => void ok(id).then(res))));
    const pool = createWorkerPool({ size: 1, init, spawn: w.spawn, timers: fakeTimers().timers });
    const started: number[] = [];
    const runs = [1, 2, 3].map((n) => pool.run(xreq(n), { started: () => started.push(n) }));
    await flush();
    expect(started).toEqual([1]);
    gates.shift()?.();
    await flush();
    expect(started).toEqual([1, 2]);
    gates.shift()?.();
    await flush();
    gates.shift()?.();
    await Promise.all(runs);
    expect(started).toEqual([1, 2, 3]);
  });

  it('drops cancelled runs that have not started, in the queue and in a worker', async () => {
    const gates: (() => void)[] = [];
    const w = fakeWorkers((_, id) => new Promise((res) => gates.push(() => void ok(id).then(res))));
    const pool = createWorkerPool({ size: 1, init, spawn: w.spawn, timers: fakeTimers().timers });
    const reqs = Array.from({ length: 10 }, (_, i) => xreq(i));
    const runs = reqs.map((r) =>
      pool.run(r).then(
        () => 'ok',
        (e: PeerGridError) => e.code,
      ),
    );
    await flush();
    expect(runsPosted(w)).toEqual([8]); // 0–7 in the worker, 8 and 9 in the pool's queue
    expect(pool.cancel(reqs[0] as ExecRequest)).toBe(false); // running
    expect(pool.cancel(reqs[9] as ExecRequest)).toBe(true);
    expect(await runs[9]).toBe('cancelled');
    expect(pool.cancel(reqs[3] as ExecRequest, new PeerGridError('paused', 'donor paused'))).toBe(
      true,
    );
    expect(pool.cancel(reqs[9] as ExecRequest)).toBe(false); // gone
    let settled = false;
    void Promise.all(runs).then(() => {
      settled = true;
    });
    while (!settled) {
      gates.shift()?.();
      await flush();
    }
    expect(await Promise.all(runs)).toEqual([
      'ok',
      'ok',
      'ok',
      'paused',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'cancelled',
    ]);
    expect(w.log.map((l) => l.x)).toEqual([0, 1, 2, 4, 5, 6, 7, 8]);
  });

  it('a cancel sent while the worker is still setting up does not pass the runs it cancels', async () => {
    const gates: (() => void)[] = [];
    const w = fakeWorkers((_, id) => new Promise((res) => gates.push(() => void ok(id).then(res))));
    let release!: () => void;
    const setUp = new Promise<void>((r) => {
      release = r;
    });
    // The worker's set-up (ORT's WASM) takes a while: runs and cancels wait for it alike.
    const spawn = (): WorkerHandle => {
      const h = w.spawn();
      const later = async (o: Parameters<typeof h.api.init>[0]) => {
        await setUp;
        return h.api.init(o);
      };
      return { ...h, api: { ...h.api, init: later } };
    };
    const pool = createWorkerPool({ size: 1, init, spawn, timers: fakeTimers().timers });
    const reqs = Array.from({ length: 4 }, (_, i) => xreq(i));
    const runs = reqs.map((r) =>
      pool.run(r).then(
        () => 'ok',
        (e: PeerGridError) => e.code,
      ),
    );
    await flush();
    expect(pool.cancel(reqs[2] as ExecRequest)).toBe(true);
    release();
    let settled = false;
    void Promise.all(runs).then(() => {
      settled = true;
    });
    while (!settled) {
      gates.shift()?.();
      await flush();
    }
    expect(await Promise.all(runs)).toEqual(['ok', 'ok', 'cancelled', 'ok']);
    expect(w.log.map((l) => l.x)).toEqual([0, 1, 3]);
  });
});

import type { ExecRequest } from '@peergrid/shared';
import { PeerGridError, tensorFrom } from '@peergrid/shared';
import { describe, expect, it } from 'vitest';
import { createWorkerPool, type WorkerHandle } from '../src/exec/worker-pool.ts';
import type { OrtWorkerApi, WorkerRunRequest } from '../src/exec/worker-protocol.ts';
import { NEED_MODEL } from '../src/exec/worker-protocol.ts';
import { fakeTimers } from './fake-timers.ts';

/** In-memory workers: `behave` decides each run's reply; every worker is recorded. */
function fakeWorkers(
  behave: (
    req: WorkerRunRequest,
    worker: number,
  ) => Promise<Awaited<ReturnType<OrtWorkerApi['run']>>>,
) {
  const log: { worker: number; hadModel: boolean }[] = [];
  const terminated: number[] = [];
  const warmed: number[] = [];
  let count = 0;
  const helds: Set<string>[] = [];
  const spawn = (): WorkerHandle => {
    const id = count++;
    const held = new Set<string>();
    helds.push(held);
    return {
      api: {
        init: async (o) => ({
          backends: o.gpu ? ['webgpu', 'wasm'] : ['wasm'],
          threads: o.threads,
        }),
        run: async (req) => {
          log.push({ worker: id, hadModel: req.model !== undefined });
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
      },
      terminate: () => terminated.push(id),
    };
  };
  return {
    spawn,
    log,
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
const flush = () => new Promise((r) => setTimeout(r, 0));

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

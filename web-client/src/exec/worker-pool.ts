import type { Backend, ExecRequest, ExecResult, Executor, Timers } from '@peergrid/shared';
import { byteLength, PeerGridError } from '@peergrid/shared';
import type { ModelInfo, OrtWorkerApi, WorkerInfo, WorkerInit } from './worker-protocol.ts';
import { DEVICE_LOST, NEED_MODEL } from './worker-protocol.ts';

/** One live worker as the pool sees it; tests pass in-memory ones. */
export interface WorkerHandle {
  readonly api: OrtWorkerApi;
  terminate(): void;
}

/** Limits a donor enforces before running anything. */
export interface ExecLimits {
  /** Largest model accepted, bytes. Default 64 MiB. */
  readonly maxModelBytes: number;
  /** Largest total of feeds accepted, bytes. Default 64 MiB. */
  readonly maxInputBytes: number;
}
export const DEFAULT_EXEC_LIMITS: ExecLimits = {
  maxModelBytes: 64 * 1024 * 1024,
  maxInputBytes: 64 * 1024 * 1024,
};

export interface WorkerPoolOptions {
  /** Workers to run (tasks at once). */
  readonly size: number;
  /** Worker settings: ORT asset URL, WASM threads, WebGPU on/off. */
  readonly init: WorkerInit;
  /** Starts a worker. */
  readonly spawn: () => WorkerHandle;
  readonly timers: Timers;
  readonly limits?: ExecLimits;
  /** Clock for busy time, ms. Default performance.now. */
  readonly now?: () => number;
}

/** What the pool is doing, for the page. */
export interface PoolState {
  readonly size: number;
  readonly busy: number;
  readonly queued: number;
  readonly backends: readonly Backend[];
  readonly threads: number;
  /** Workers killed for running past a deadline. */
  readonly killed: number;
  /** Model hashes of tasks running now. */
  readonly running: readonly string[];
  /**
   * Time the workers spent on tasks so far, ms, summed over workers (a task
   * counts from its dispatch to its reply; running ones up to now). Busy ÷
   * (wall × workers) over an interval is the pool's CPU share.
   */
  readonly busyMs: number;
}

/** The page's Executor: a pool of ORT Web Workers. */
export interface WorkerPool extends Executor {
  state(): PoolState;
  /** Changes the number of workers; busy workers beyond it finish their task first. */
  resize(size: number): void;
  /** Turns WebGPU on or off; workers restart (idle now, busy ones after their task). */
  setGpu(gpu: boolean): void;
  /** Loads a model in a fresh worker and describes its inputs and outputs. */
  inspect(model: Uint8Array): Promise<ModelInfo>;
  /**
   * Starts the workers now instead of at the first task, and ONNX Runtime in
   * each (its WASM fetched and compiled). Resolves when they are warm; a
   * worker that fails to warm is left to fail its first task as before.
   */
  warm(): Promise<void>;
  /**
   * Destroys every worker's WebGPU device, as a driver reset would (tests of
   * device loss). Resolves to the number of devices destroyed.
   */
  destroyGpuDevices(): Promise<number>;
  /** Called whenever state() changes. Returns an unsubscribe function. */
  subscribe(listener: () => void): () => void;
}

interface Slot {
  handle: WorkerHandle;
  ready: Promise<WorkerInfo>;
  busy: string | null;
  /** When its task was dispatched (while busy). */
  since: number;
  models: Set<string>;
  retired: boolean;
}

interface Pending {
  readonly req: ExecRequest;
  resolve(r: ExecResult): void;
  reject(e: unknown): void;
}

export function createWorkerPool(opts: WorkerPoolOptions): WorkerPool {
  const limits = opts.limits ?? DEFAULT_EXEC_LIMITS;
  let size = Math.max(0, opts.size);
  let init = opts.init;
  let info: WorkerInfo = { backends: ['wasm'], threads: init.threads };
  let killed = 0;
  let closed = false;
  const clock = opts.now ?? (() => performance.now());
  /** Busy ms of finished tasks. */
  let busyDone = 0;
  const slots: Slot[] = [];
  const queue: Pending[] = [];
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const l of listeners) l();
  };

  function spawnSlot(): Slot {
    const handle = opts.spawn();
    const ready = handle.api.init(init);
    ready.then(
      (i) => {
        info = i;
        notify();
      },
      () => {},
    );
    return { handle, ready, busy: null, since: 0, models: new Set(), retired: false };
  }

  function fill(): void {
    for (let i = slots.length - 1; i >= 0; i--) {
      const s = slots[i] as Slot;
      if ((s.retired || slots.length > size) && s.busy === null) {
        s.handle.terminate();
        slots.splice(i, 1);
      }
    }
    while (!closed && slots.filter((s) => !s.retired).length < size) slots.push(spawnSlot());
  }

  function pump(): void {
    fill();
    for (const slot of slots) {
      if (queue.length === 0) break;
      if (slot.busy !== null || slot.retired) continue;
      const job = queue.shift() as Pending;
      dispatch(slot, job);
    }
    notify();
  }

  function dispatch(slot: Slot, job: Pending): void {
    const { req } = job;
    slot.busy = req.modelHash;
    slot.since = clock();
    let done = false;
    const timer = opts.timers.setTimeout(() => {
      if (done) return;
      done = true;
      busyDone += clock() - slot.since;
      killed++;
      slot.handle.terminate();
      const i = slots.indexOf(slot);
      if (i >= 0) slots.splice(i, 1);
      job.reject(new PeerGridError('timeout', `task ran past its ${req.timeoutMs} ms deadline`));
      pump();
    }, req.timeoutMs);
    const send = slot.models.has(req.modelHash) ? undefined : req.model;
    // Frees the slot before the caller hears the outcome, so state() is current when it does.
    const settle = (): boolean => {
      if (done) return false;
      done = true;
      opts.timers.clearTimeout(timer);
      busyDone += clock() - slot.since;
      slot.busy = null;
      return true;
    };
    const call = (model: Uint8Array | undefined) =>
      slot.handle.api.run({
        modelHash: req.modelHash,
        model,
        feeds: req.feeds,
        outputs: req.outputs,
        backend: req.backend,
      });
    slot.ready
      .then(() => call(send))
      // The worker evicted the session since: send the model again.
      .then((reply) => (!reply.ok && reply.error.code === NEED_MODEL ? call(req.model) : reply))
      .then(
        (reply) => {
          if (!settle()) return;
          if (reply.ok) {
            slot.models.add(req.modelHash);
            job.resolve(reply.value);
          } else {
            // A worker whose GPU device was lost starts over: a fresh ORT gets a new device.
            if (reply.error.code === DEVICE_LOST) slot.retired = true;
            job.reject(new PeerGridError(reply.error.code, reply.error.message));
          }
          pump();
        },
        (e: unknown) => {
          if (!settle()) return;
          job.reject(
            new PeerGridError('internal', `worker failed: ${String((e as Error)?.message ?? e)}`),
          );
          pump();
        },
      );
  }

  function checkLimits(req: ExecRequest): void {
    if (req.model.byteLength > limits.maxModelBytes) {
      throw new PeerGridError(
        'too-large',
        `model is ${req.model.byteLength} bytes, limit ${limits.maxModelBytes}`,
      );
    }
    let total = 0;
    for (const [name, t] of Object.entries(req.feeds)) {
      if (t.data.byteLength !== byteLength(t.dtype, t.dims)) {
        throw new PeerGridError('bad-input', `input "${name}" bytes do not match its shape`);
      }
      total += t.data.byteLength;
    }
    if (total > limits.maxInputBytes) {
      throw new PeerGridError(
        'too-large',
        `inputs are ${total} bytes, limit ${limits.maxInputBytes}`,
      );
    }
  }

  return {
    get concurrency() {
      return size;
    },
    run(req) {
      if (closed)
        return Promise.reject(new PeerGridError('backend-unavailable', 'executor closed'));
      try {
        checkLimits(req);
      } catch (e) {
        return Promise.reject(e);
      }
      return new Promise<ExecResult>((resolve, reject) => {
        queue.push({ req, resolve, reject });
        pump();
      });
    },
    async backends() {
      const live = slots.find((s) => !s.retired);
      if (live) info = await live.ready;
      return info.backends;
    },
    state() {
      const running = slots.flatMap((s) => (s.busy === null ? [] : [s.busy]));
      const t = clock();
      let busyMs = busyDone;
      for (const s of slots) if (s.busy !== null) busyMs += t - s.since;
      return {
        busyMs,
        size,
        busy: running.length,
        queued: queue.length,
        backends: info.backends,
        threads: info.threads,
        killed,
        running,
      };
    },
    resize(n) {
      size = Math.max(0, Math.floor(n));
      pump();
    },
    setGpu(gpu) {
      if (gpu === init.gpu) return;
      init = { ...init, gpu };
      for (const s of slots) s.retired = true;
      pump();
    },
    async inspect(model) {
      if (model.byteLength > limits.maxModelBytes) {
        throw new PeerGridError(
          'too-large',
          `model is ${model.byteLength} bytes, limit ${limits.maxModelBytes}`,
        );
      }
      const handle = opts.spawn();
      try {
        await handle.api.init({ ...init, gpu: false });
        const reply = await handle.api.inspect(model);
        if (!reply.ok) throw new PeerGridError(reply.error.code, reply.error.message);
        return reply.value;
      } finally {
        handle.terminate();
      }
    },
    async warm() {
      if (closed) return;
      fill();
      await Promise.all(
        slots
          .filter((s) => !s.retired)
          .map((s) => s.ready.then(() => s.handle.api.warm()).catch(() => undefined)),
      );
    },
    async destroyGpuDevices() {
      const done = await Promise.all(
        slots.map((s) => s.handle.api.destroyDevice?.().catch(() => false) ?? false),
      );
      return done.filter(Boolean).length;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      closed = true;
      for (const s of slots) s.handle.terminate();
      slots.length = 0;
      for (const p of queue.splice(0))
        p.reject(new PeerGridError('backend-unavailable', 'executor closed'));
      notify();
    },
  };
}

/**
 * The page's executor: a pool of ORT Web Workers. When more runs wait than
 * workers are free, a worker takes several in one message (up to
 * `maxBatch`, topped up once it is down to a quarter of that, least loaded
 * first) and returns what it finished together (run-inbox.ts): for short
 * tasks a page<->worker message per batch, not per task, and no worker idle
 * for a round trip between two runs. It declares the runs it holds beyond
 * its workers as `prefetch`, which the donor agent fills from its queue. A
 * run's deadline counts from its start (when the run before it in its worker
 * reported); past it the worker is killed, that run fails with `timeout`
 * and the runs queued behind it go back to the queue.
 */
import type { Backend, ExecRequest, ExecResult, Executor, Timers } from '@peergrid/shared';
import { byteLength, PeerGridError } from '@peergrid/shared';
import type {
  ModelInfo,
  OrtWorkerApi,
  PoolToWorker,
  WorkerInfo,
  WorkerInit,
  WorkerRepliesMessage,
  WorkerRun,
} from './worker-protocol.ts';
import { CANCELLED, DEVICE_LOST, NEED_MODEL } from './worker-protocol.ts';

/** One live worker as the pool sees it; tests pass in-memory ones. */
export interface WorkerHandle {
  /** Set-up, inspection and warm-up calls (comlink). */
  readonly api: OrtWorkerApi;
  /** Posts to the worker's run inbox (run-inbox.ts), on a port of its own. */
  post(msg: PoolToWorker): void;
  /** Sets who hears the worker's `replies` messages. */
  onReplies(listener: (msg: WorkerRepliesMessage) => void): void;
  terminate(): void;
}

/** Default of `WorkerPoolOptions.maxBatch`. */
export const DEFAULT_MAX_BATCH = 8;

/** What a caller of `run` may hear besides the outcome. */
export interface RunHooks {
  /** The run starts in a worker (as the pool knows it: when the run before it reported). */
  readonly started?: () => void;
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
  /** Most runs a worker holds at once (one running, the rest waiting in it). Default 8. */
  readonly maxBatch?: number;
}

/** What the pool is doing, for the page. */
export interface PoolState {
  readonly size: number;
  readonly busy: number;
  /** Runs waiting: in the pool's queue and in workers behind their running one. */
  readonly queued: number;
  readonly backends: readonly Backend[];
  readonly threads: number;
  /** Workers killed for running past a deadline. */
  readonly killed: number;
  /** Model hashes of tasks running now. */
  readonly running: readonly string[];
  /**
   * Time the workers spent on tasks so far, ms, summed over workers (a
   * worker is busy while it holds runs; busy ones up to now). Busy ÷
   * (wall × workers) over an interval is the pool's CPU share.
   */
  readonly busyMs: number;
}

/** The page's Executor: a pool of ORT Web Workers. */
export interface WorkerPool extends Executor {
  /** Runs `req`; `hooks.started` hears when it starts in a worker. */
  run(req: ExecRequest, hooks?: RunHooks): Promise<ExecResult>;
  /** Runs it holds beyond its workers, batched to them: `size` × (`maxBatch` − 1). */
  readonly prefetch: number;
  /**
   * Drops a run that has not started: from the queue at once, or in its
   * worker once it hears; it then rejects with `reason` (default code
   * `cancelled`). False when it is running or unknown; a run the worker
   * started meanwhile settles as usual.
   */
  cancel(req: ExecRequest, reason?: PeerGridError): boolean;
  state(): PoolState;
  /** Changes the number of workers; busy workers beyond it finish the runs they hold first. */
  resize(size: number): void;
  /** Turns WebGPU on or off; workers restart (idle now, busy ones after the runs they hold). */
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
  readonly handle: WorkerHandle;
  readonly ready: Promise<WorkerInfo>;
  /** Runs posted to the worker, in the order it runs them: the first is running. */
  jobs: Pending[];
  /** Since when it holds runs (while `jobs` is not empty). */
  since: number;
  /** The first run's deadline. */
  timer: unknown;
  /** Models the worker holds (or was sent), so each crosses once. */
  readonly models: Set<string>;
  /** Takes no new runs; terminated once it holds none (GPU switch, resize, device lost). */
  retired: boolean;
}

interface Pending {
  readonly id: number;
  readonly req: ExecRequest;
  readonly hooks: RunHooks | undefined;
  /** The worker holding it; null while it waits in the pool's queue. */
  slot: Slot | null;
  /** Its `started` hook ran. */
  started: boolean;
  /** Sent again with its model after a need-model reply. */
  resent: boolean;
  /** What it rejects with once its worker dropped it (`cancel`). */
  cancelled: PeerGridError | null;
  resolve(r: ExecResult): void;
  reject(e: unknown): void;
}

export function createWorkerPool(opts: WorkerPoolOptions): WorkerPool {
  const limits = opts.limits ?? DEFAULT_EXEC_LIMITS;
  const maxBatch = Math.max(1, Math.floor(opts.maxBatch ?? DEFAULT_MAX_BATCH));
  /** A worker holding more runs than this is not sent more yet. */
  const lowWater = Math.floor(maxBatch / 4);
  let size = Math.max(0, opts.size);
  let init = opts.init;
  let info: WorkerInfo = { backends: ['wasm'], threads: init.threads };
  let killed = 0;
  let closed = false;
  let nextId = 1;
  const clock = opts.now ?? (() => performance.now());
  const defer = opts.timers.defer
    ? (fn: () => void) => opts.timers.defer?.(fn)
    : (fn: () => void) => queueMicrotask(fn);
  /** Busy ms of workers' finished stretches. */
  let busyDone = 0;
  const slots: Slot[] = [];
  const queue: Pending[] = [];
  /** Every run not settled yet, by its request (for `cancel`). */
  const byReq = new Map<ExecRequest, Pending>();
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
    const slot: Slot = {
      handle,
      ready,
      jobs: [],
      since: 0,
      timer: null,
      models: new Set(),
      retired: false,
    };
    handle.onReplies((msg) => onReplies(slot, msg));
    return slot;
  }

  /** Stops the slot's worker and forgets the slot; its runs must be dealt with first. */
  function drop(slot: Slot): void {
    if (slot.timer !== null) opts.timers.clearTimeout(slot.timer);
    slot.timer = null;
    if (slot.jobs.length > 0) busyDone += clock() - slot.since;
    slot.jobs = [];
    slot.handle.terminate();
    const i = slots.indexOf(slot);
    if (i >= 0) slots.splice(i, 1);
  }

  /** Workers up to `size`; idle retired or surplus ones go, busy surplus ones are retired. */
  function fill(): void {
    for (let i = slots.length - 1; i >= 0; i--) {
      const s = slots[i] as Slot;
      if (s.retired && s.jobs.length === 0) drop(s);
    }
    let live = slots.filter((s) => !s.retired);
    for (const s of [...live].sort((a, b) => a.jobs.length - b.jobs.length)) {
      if (live.length <= size) break;
      if (s.jobs.length === 0) drop(s);
      else s.retired = true;
      live = live.filter((x) => x !== s);
    }
    while (!closed && live.length < size) {
      const s = spawnSlot();
      slots.push(s);
      live.push(s);
    }
  }

  let pumpDue = false;
  /** Runs arriving in one go (a burst of leases) are shared out together, after this task. */
  function pumpSoon(): void {
    if (pumpDue) return;
    pumpDue = true;
    defer(() => {
      pumpDue = false;
      pump();
    });
  }

  /**
   * Shares the queue out to workers, least loaded first, in one message per
   * worker. A worker is topped up only once it is down to `lowWater` runs,
   * and then up to `maxBatch`: with a steady stream (one run in as one
   * result goes out) runs would otherwise cross one per message.
   */
  function pump(): void {
    fill();
    const posts = new Map<Slot, Pending[]>();
    const open = slots.filter((s) => !s.retired && s.jobs.length <= lowWater);
    while (queue.length > 0 && open.length > 0) {
      let best: Slot | undefined;
      for (const s of open) if (!best || s.jobs.length < best.jobs.length) best = s;
      if (!best || best.jobs.length >= maxBatch) break;
      const job = queue.shift() as Pending;
      job.slot = best;
      best.jobs.push(job);
      if (best.jobs.length === 1) {
        best.since = clock();
        armHead(best);
      }
      const batch = posts.get(best);
      if (batch) batch.push(job);
      else posts.set(best, [job]);
    }
    for (const [slot, jobs] of posts) post(slot, jobs);
    notify();
  }

  /** The slot's first run starts now: its deadline counts from here. */
  function armHead(slot: Slot): void {
    if (slot.timer !== null) opts.timers.clearTimeout(slot.timer);
    slot.timer = null;
    const head = slot.jobs[0];
    if (!head) return;
    slot.timer = opts.timers.setTimeout(() => {
      slot.timer = null;
      if (slot.jobs[0] !== head) return;
      killed++;
      lose(
        slot,
        new PeerGridError('timeout', `task ran past its ${head.req.timeoutMs} ms deadline`),
      );
    }, head.req.timeoutMs);
    if (!head.started) {
      head.started = true;
      head.hooks?.started?.();
    }
  }

  /** The worker is lost: its running run fails with `error`, the runs after it go back to the queue. */
  function lose(slot: Slot, error: PeerGridError): void {
    const [head, ...rest] = slot.jobs;
    drop(slot);
    requeue(rest);
    if (head) settle(head).reject(error);
    pump();
  }

  /** Runs of a lost worker go back to the front of the queue, in order; cancelled ones end. */
  function requeue(jobs: readonly Pending[]): void {
    const back: Pending[] = [];
    for (const job of jobs) {
      job.slot = null;
      if (job.cancelled) settle(job).reject(job.cancelled);
      else back.push(job);
    }
    queue.unshift(...back);
  }

  function settle(job: Pending): Pending {
    if (byReq.get(job.req) === job) byReq.delete(job.req);
    job.slot = null;
    return job;
  }

  function toRun(slot: Slot, job: Pending, withModel: boolean): WorkerRun {
    const { req } = job;
    if (withModel) slot.models.add(req.modelHash);
    return {
      id: job.id,
      modelHash: req.modelHash,
      ...(withModel ? { model: req.model } : {}),
      feeds: req.feeds,
      ...(req.outputs ? { outputs: req.outputs } : {}),
      ...(req.backend ? { backend: req.backend } : {}),
    };
  }

  /**
   * Posts runs once the worker's ONNX Runtime is set up. Feeds are cloned,
   * not transferred: a run may be sent again (its worker killed over
   * another run, or its model evicted), so the page keeps them to the reply.
   */
  function post(slot: Slot, jobs: readonly Pending[]): void {
    const runs = jobs.map((j) => toRun(slot, j, !slot.models.has(j.req.modelHash)));
    slot.ready.then(
      () => {
        if (slots.includes(slot)) slot.handle.post({ type: 'runs', runs });
      },
      (e: unknown) => {
        if (!slots.includes(slot)) return;
        for (const job of jobs) {
          const at = slot.jobs.indexOf(job);
          if (at < 0) continue;
          slot.jobs.splice(at, 1);
          settle(job).reject(
            new PeerGridError('internal', `worker failed: ${String((e as Error)?.message ?? e)}`),
          );
        }
        afterReplies(slot, slot.jobs[0]);
        pump();
      },
    );
  }

  function onReplies(slot: Slot, msg: WorkerRepliesMessage): void {
    if (!slots.includes(slot)) return; // killed meanwhile: its runs went elsewhere
    if (msg?.type !== 'replies' || !Array.isArray(msg.replies)) {
      lose(slot, new PeerGridError('internal', 'malformed reply from a worker'));
      return;
    }
    const headBefore = slot.jobs[0];
    let deviceLost = false;
    for (const { id, reply } of msg.replies) {
      const at = slot.jobs.findIndex((j) => j.id === id);
      if (at < 0) continue;
      const job = slot.jobs[at] as Pending;
      if (!reply.ok && reply.error.code === NEED_MODEL && !job.resent) {
        // The worker evicted the session since: again, with the model, after the others.
        job.resent = true;
        slot.jobs.splice(at, 1);
        slot.jobs.push(job);
        slot.handle.post({ type: 'runs', runs: [toRun(slot, job, true)] });
        continue;
      }
      slot.jobs.splice(at, 1);
      // The slot is current before the caller hears the outcome (it hears it in a microtask).
      if (reply.ok) {
        slot.models.add(job.req.modelHash);
        settle(job).resolve(reply.value);
      } else if (reply.error.code === CANCELLED && job.cancelled) {
        settle(job).reject(job.cancelled);
      } else {
        // A worker whose GPU device was lost starts over: a fresh ORT gets a new device.
        if (reply.error.code === DEVICE_LOST) deviceLost = true;
        settle(job).reject(new PeerGridError(reply.error.code, reply.error.message));
      }
    }
    if (deviceLost) {
      // Its other runs go to a fresh worker (a fresh ORT, a new device).
      const rest = slot.jobs;
      if (rest.length === 0) busyDone += clock() - slot.since;
      drop(slot);
      requeue(rest);
    } else afterReplies(slot, headBefore);
    pump();
  }

  /** Books the end of a busy stretch, or starts the deadline of a new first run. */
  function afterReplies(slot: Slot, headBefore: Pending | undefined): void {
    if (slot.jobs.length === 0) {
      busyDone += clock() - slot.since;
      if (slot.timer !== null) opts.timers.clearTimeout(slot.timer);
      slot.timer = null;
    } else if (slot.jobs[0] !== headBefore) armHead(slot);
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
    get prefetch() {
      return size * (maxBatch - 1);
    },
    run(req, hooks) {
      if (closed)
        return Promise.reject(new PeerGridError('backend-unavailable', 'executor closed'));
      try {
        checkLimits(req);
      } catch (e) {
        return Promise.reject(e);
      }
      return new Promise<ExecResult>((resolve, reject) => {
        const job: Pending = {
          id: nextId++,
          req,
          hooks,
          slot: null,
          started: false,
          resent: false,
          cancelled: null,
          resolve,
          reject,
        };
        byReq.set(req, job);
        queue.push(job);
        pumpSoon();
      });
    },
    cancel(req, reason) {
      const job = byReq.get(req);
      if (!job) return false;
      const error = reason ?? new PeerGridError(CANCELLED, 'cancelled before it started');
      if (job.slot === null) {
        const at = queue.indexOf(job);
        if (at >= 0) queue.splice(at, 1);
        settle(job).reject(error);
        notify();
        return true;
      }
      // In a worker: it drops the run unless it started (its reply then comes as usual).
      if (job.slot.jobs[0] === job) return false;
      job.cancelled = error;
      // Behind the runs' own post, which waits for the worker's set-up: a cancel must not pass it.
      const slot = job.slot;
      void slot.ready.then(
        () => {
          if (slots.includes(slot)) slot.handle.post({ type: 'cancel', ids: [job.id] });
        },
        () => {},
      );
      return true;
    },
    async backends() {
      const live = slots.find((s) => !s.retired);
      if (live) info = await live.ready;
      return info.backends;
    },
    state() {
      const t = clock();
      let busyMs = busyDone;
      let queued = queue.length;
      const running: string[] = [];
      for (const s of slots) {
        const head = s.jobs[0];
        if (!head) continue;
        running.push(head.req.modelHash);
        queued += s.jobs.length - 1;
        busyMs += t - s.since;
      }
      return {
        busyMs,
        size,
        busy: running.length,
        queued,
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
      const held = slots.flatMap((s) => s.jobs);
      for (const s of [...slots]) drop(s);
      for (const p of [...held, ...queue.splice(0)])
        settle(p).reject(new PeerGridError('backend-unavailable', 'executor closed'));
      notify();
    },
  };
}

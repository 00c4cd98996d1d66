/**
 * The Node executor: a pool of isolated ONNX Runtime runners (see runner.ts:
 * worker_threads for onnxruntime-web WASM, child processes for
 * onnxruntime-node CPU/CUDA). Each keeps sessions by model hash; a task past
 * its timeout is killed with its runner, which is replaced, so the pool keeps
 * serving. When more runs wait than runners are free, a runner takes several
 * in one message (shared out evenly) and returns what it finished together:
 * for short tasks the IPC costs a message per batch, not per task. A batch
 * holds about `batchMs` of work by the runs' measured time (2 to `maxBatch`
 * runs): many short runs cross together, while long ones are not held in a
 * runner where a pause or another submitter could not reach them. A run's timeout counts from when it starts: when the run before
 * it in its runner reports. A killed runner's other runs go back to the queue.
 */
import { availableParallelism } from 'node:os';
import {
  type Backend,
  byteLength,
  type ExecRequest,
  type ExecResult,
  type Executor,
  PeerGridError,
  type TensorMap,
} from '@peergrid/shared';
import { createBackendHealth } from './backend-health.ts';
import { detectBackends } from './detect-backends.ts';
import { createRunner, type Runner, type RunnerKind } from './runner.ts';
import { parseWorkerReplies, type WorkerRun, type WorkerRunsMessage } from './worker-protocol.ts';

/** Options of {@link createNodeExecutor}. */
export interface NodeExecutorOptions {
  /** Backend for requests that do not name one. 'auto' = cuda, else cpu, else wasm. Default 'auto'. */
  readonly backend?: 'auto' | Backend;
  /** Runners = tasks run at once. Default: available cores. */
  readonly concurrency?: number;
  /** ORT intra-op threads per runner (cpu/cuda; WASM always uses 1). Default 1, so N runners use N cores. */
  readonly intraOpThreads?: number;
  /** Largest model accepted, bytes. Default 256 MiB. */
  readonly maxModelBytes?: number;
  /** Largest single input or output tensor, bytes. Default 64 MiB. */
  readonly maxTensorBytes?: number;
  /** Sessions each runner keeps (LRU). Default 8. */
  readonly maxSessionsPerWorker?: number;
  /** Most runs a runner holds at once (one running, the rest waiting in it). Default 32. */
  readonly maxBatch?: number;
  /**
   * Work a runner is given at once, ms, by the measured time of recent runs:
   * its batch is about this long (at least 2 runs, at most `maxBatch`). Default 20.
   */
  readonly batchMs?: number;
  /** Hears a backend given up on at run time (a failed CUDA session), with the reason. */
  readonly onBackendFailed?: (backend: Backend, reason: string) => void;
}

export const NODE_EXECUTOR_DEFAULTS = {
  maxModelBytes: 256 * 1024 * 1024,
  maxTensorBytes: 64 * 1024 * 1024,
  maxSessionsPerWorker: 8,
  intraOpThreads: 1,
  maxBatch: 32,
  batchMs: 20,
} as const;

/** Runs whose median compute time sizes the batches. */
const RECENT_RUNS = 9;

/** Time a run costs beyond its compute (IPC, session lookup), ms: bounds the batch of near-empty runs. */
const RUN_OVERHEAD_MS = 0.05;

/**
 * Runs per batch for runs that take `runMs` each: `batchMs` of work, at
 * least 2 (one running, one waiting, so the runner never idles between
 * replies), at most `maxBatch`.
 */
export function batchFor(runMs: number, batchMs: number, maxBatch: number): number {
  const per = Math.max(RUN_OVERHEAD_MS, runMs);
  return Math.max(Math.min(2, maxBatch), Math.min(maxBatch, Math.ceil(batchMs / per)));
}

interface Pending {
  readonly id: number;
  readonly req: ExecRequest;
  readonly backend: Backend;
  readonly resolve: (r: ExecResult) => void;
  readonly reject: (e: PeerGridError) => void;
}

interface Slot {
  runner: Runner | null;
  /** Session keys (`backend:hash`) the runner holds, so models are sent once. */
  readonly keys: Set<string>;
  /** Runs posted to the runner, in the order it runs them: the first is running. */
  jobs: Pending[];
  /** The first run's timeout. */
  timer: ReturnType<typeof setTimeout> | null;
}

function kindFor(backend: Backend): RunnerKind {
  return backend === 'wasm' ? 'thread' : 'process';
}

function fail(code: string, message: string): PeerGridError {
  return new PeerGridError(code, message);
}

function checkFeeds(feeds: TensorMap, maxTensorBytes: number): void {
  for (const [name, t] of Object.entries(feeds)) {
    const want = byteLength(t.dtype, t.dims);
    if (t.data.byteLength !== want) {
      throw fail(
        'bad-input',
        `input '${name}' ${t.dtype}[${t.dims.join('x')}] needs ${want} bytes, got ${t.data.byteLength}`,
      );
    }
    if (want > maxTensorBytes) {
      throw fail(
        'too-large',
        `input '${name}' is ${want} bytes, over the ${maxTensorBytes}-byte limit`,
      );
    }
  }
}

/** The Node executor, with counts of the messages it exchanged with its runners. */
export interface NodeExecutor extends Executor {
  ipcStats(): { readonly messagesToRunners: number; readonly messagesFromRunners: number };
}

/** Creates the Node executor. Runners start lazily, on the first run that needs one. */
export function createNodeExecutor(options: NodeExecutorOptions = {}): NodeExecutor {
  const concurrency = Math.max(1, options.concurrency ?? availableParallelism());
  const maxModelBytes = options.maxModelBytes ?? NODE_EXECUTOR_DEFAULTS.maxModelBytes;
  const maxTensorBytes = options.maxTensorBytes ?? NODE_EXECUTOR_DEFAULTS.maxTensorBytes;
  const config = {
    intraOpThreads: options.intraOpThreads ?? NODE_EXECUTOR_DEFAULTS.intraOpThreads,
    maxSessions: options.maxSessionsPerWorker ?? NODE_EXECUTOR_DEFAULTS.maxSessionsPerWorker,
    maxTensorBytes,
  };
  const maxBatch = Math.max(1, options.maxBatch ?? NODE_EXECUTOR_DEFAULTS.maxBatch);
  const batchMs = Math.max(0, options.batchMs ?? NODE_EXECUTOR_DEFAULTS.batchMs);
  /**
   * The compute times of the last runs of the model run last, ms: their
   * median sizes batches (a model's slow first runs, a GC pause, do not).
   * Empty until the first result, and again when another model's runs
   * come back: batches of 2 until then.
   */
  let recent: number[] = [];
  let recentAt = 0;
  let recentModel: string | undefined;
  let batchNow = Math.min(2, maxBatch);
  /** A run of `model` took `ms`; another model's times start the count again (its runs may be long). */
  const timed = (ms: number, model: string) => {
    if (model !== recentModel) {
      recent = [];
      recentAt = 0;
      recentModel = model;
    }
    if (recent.length < RECENT_RUNS) recent.push(ms);
    else recent[recentAt] = ms;
    recentAt = (recentAt + 1) % RECENT_RUNS;
    const sorted = [...recent].sort((a, b) => a - b);
    batchNow = batchFor(sorted[sorted.length >> 1]!, batchMs, maxBatch);
  };
  let lastAsked: string | undefined;
  /** Runs a runner is given at once now: by the times of the model asked for last, 2 for one not timed yet. */
  const batch = () => (lastAsked === recentModel ? batchNow : Math.min(2, maxBatch));
  const slots: Slot[] = [];
  const queue: Pending[] = [];
  const dying = new Set<Promise<void>>();
  let nextId = 1;
  let closed = false;
  const ipc = { messagesToRunners: 0, messagesFromRunners: 0 };
  const health = createBackendHealth(options.onBackendFailed);

  function start(s: Slot, kind: RunnerKind): Runner {
    const runner: Runner = createRunner(kind, config, {
      message: (raw) => onReply(s, runner, raw),
      died: (reason) => onCrash(s, runner, reason),
    });
    s.runner = runner;
    return runner;
  }

  /** Kills the slot's runner and leaves the slot empty; its runs must be dealt with first. */
  function stop(s: Slot): void {
    const runner = s.runner;
    s.runner = null;
    s.keys.clear();
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
    if (!runner) return;
    const p = runner.kill();
    dying.add(p);
    void p.finally(() => dying.delete(p));
  }

  /** Starts the timeout of the slot's first run (it runs now). */
  function armHead(s: Slot): void {
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
    const head = s.jobs[0];
    if (!head) return;
    s.timer = setTimeout(() => {
      s.timer = null;
      if (s.jobs[0] !== head) return;
      timed(head.req.timeoutMs, head.req.modelHash); // a runaway is a long run: small batches
      lose(s, fail('timeout', `task exceeded ${head.req.timeoutMs} ms; its runner was killed`));
    }, head.req.timeoutMs);
  }

  /** The runner is lost: its running run fails with `error`, the runs after it go back to the queue. */
  function lose(s: Slot, error: PeerGridError): void {
    const [head, ...rest] = s.jobs;
    s.jobs = [];
    stop(s);
    queue.unshift(...rest);
    head?.reject(error);
    pump();
  }

  function onCrash(s: Slot, runner: Runner, reason: string): void {
    if (s.runner !== runner) return;
    lose(s, fail('internal', reason));
  }

  function toRun(s: Slot, job: Pending, withModel: boolean): WorkerRun {
    if (withModel) s.keys.add(`${job.backend}:${job.req.modelHash}`);
    return {
      id: job.id,
      backend: job.backend,
      modelHash: job.req.modelHash,
      model: withModel ? job.req.model : undefined,
      feeds: job.req.feeds,
      outputs: job.req.outputs,
    };
  }

  function post(s: Slot, jobs: readonly Pending[]): void {
    const runs = jobs.map((job) =>
      toRun(s, job, !s.keys.has(`${job.backend}:${job.req.modelHash}`)),
    );
    const msg: WorkerRunsMessage = { type: 'runs', runs };
    ipc.messagesToRunners++;
    s.runner?.post(msg);
  }

  function onReply(s: Slot, runner: Runner, raw: unknown): void {
    if (s.runner !== runner) return;
    ipc.messagesFromRunners++;
    const parsed = parseWorkerReplies(raw);
    if (!parsed) {
      lose(s, fail('internal', 'malformed reply from a runner'));
      return;
    }
    for (const key of parsed.evicted) s.keys.delete(key);
    const headBefore = s.jobs[0];
    let deviceLost = false;
    for (const reply of parsed.replies) {
      const at = s.jobs.findIndex((j) => j.id === reply.id);
      if (at < 0) continue;
      const job = s.jobs[at]!;
      if (reply.type === 'need-model') {
        // Its session was evicted meanwhile: again, with the model, after the others.
        s.jobs.splice(at, 1);
        s.jobs.push(job);
        ipc.messagesToRunners++;
        s.runner?.post({ type: 'runs', runs: [toRun(s, job, true)] } satisfies WorkerRunsMessage);
        continue;
      }
      s.jobs.splice(at, 1);
      if (reply.type === 'result') {
        timed(reply.computeMs, job.req.modelHash);
        job.resolve({ outputs: reply.outputs, backend: job.backend, computeMs: reply.computeMs });
      } else {
        if (reply.code === 'device-lost') {
          deviceLost = true;
          health.failed(job.backend, reply.message);
        }
        job.reject(fail(reply.code, reply.message));
      }
    }
    if (deviceLost) {
      // The runner goes, its device context with it; its other runs move to a working backend.
      const rest = s.jobs;
      s.jobs = [];
      stop(s);
      const next = health.choose(['cpu', 'wasm']) ?? 'cpu';
      queue.unshift(...rest.map((j) => (health.reason(j.backend) ? { ...j, backend: next } : j)));
      pump();
      return;
    }
    if (s.jobs[0] !== headBefore) armHead(s);
    pump();
  }

  let pumpScheduled = false;
  /** Runs arriving in one go (a batch of leases) are shared out together, after this task. */
  function pumpSoon(): void {
    if (pumpScheduled) return;
    pumpScheduled = true;
    setImmediate(() => {
      pumpScheduled = false;
      pump();
    });
  }

  /**
   * Shares the queue out to runners, least loaded first, in one message per
   * runner. A runner is topped up only once it is down to a quarter of its
   * batch, and then up to the batch: with a steady stream (one lease in as
   * one result goes out) runs would otherwise cross one per message.
   */
  function pump(): void {
    if (closed || queue.length === 0) return;
    const posts = new Map<Slot, Pending[]>();
    const size = batch();
    // Topped up while one run still waits in it (the runner never idles for a round trip).
    const lowWater = Math.max(Math.min(1, size - 1), Math.floor(size / 4));
    const open = new Set(slots.filter((x) => x.jobs.length <= lowWater));
    while (queue.length > 0) {
      const job = queue[0]!;
      const kind = kindFor(job.backend);
      // The least loaded open slot that can take this kind of run; a new one while under concurrency.
      let best: Slot | undefined;
      for (const x of open) {
        if (x.jobs.length > 0 && x.runner?.kind !== kind) continue;
        if (!best || x.jobs.length < best.jobs.length) best = x;
      }
      if ((!best || best.jobs.length > 0) && slots.length < concurrency) {
        best = { runner: null, keys: new Set(), jobs: [], timer: null };
        slots.push(best);
        open.add(best);
      }
      if (!best || best.jobs.length >= size) break;
      queue.shift();
      if (best.runner && best.runner.kind !== kind) stop(best);
      if (!best.runner) start(best, kind);
      best.jobs.push(job);
      const batch = posts.get(best);
      if (batch) batch.push(job);
      else posts.set(best, [job]);
      if (best.jobs.length === 1) armHead(best);
    }
    for (const [slot, jobs] of posts) post(slot, jobs);
  }

  async function pickBackend(req: ExecRequest): Promise<Backend> {
    const report = await detectBackends();
    const asked = req.backend ?? (options.backend === 'auto' ? undefined : options.backend);
    // A backend that failed at run time is passed over for the next working one (CUDA → CPU).
    const wanted =
      asked && health.reason(asked) !== undefined ? health.choose(report.backends) : asked;
    if (wanted) {
      if (!report.backends.includes(wanted)) {
        throw fail(
          'backend-unavailable',
          `backend '${wanted}' is not available: ${report.missing[wanted] ?? 'unknown reason'}`,
        );
      }
      return wanted;
    }
    const best = health.choose(report.backends);
    if (!best) throw fail('backend-unavailable', 'no ONNX Runtime backend could be loaded');
    return best;
  }

  return {
    concurrency,
    // Runs it can take beyond `concurrency`: they wait in the runners, to cross in batches.
    get prefetch() {
      return concurrency * (batch() - 1);
    },
    ipcStats: () => ({ ...ipc }),
    async backends() {
      return (await detectBackends()).backends;
    },
    async run(req) {
      if (closed) throw fail('internal', 'executor is closed');
      lastAsked = req.modelHash;
      if (req.model.byteLength > maxModelBytes) {
        throw fail(
          'too-large',
          `model is ${req.model.byteLength} bytes, over the ${maxModelBytes}-byte limit`,
        );
      }
      checkFeeds(req.feeds, maxTensorBytes);
      if (!(req.timeoutMs > 0))
        throw fail('bad-input', `timeoutMs must be > 0, got ${req.timeoutMs}`);
      const backend = await pickBackend(req);
      return new Promise<ExecResult>((resolve, reject) => {
        queue.push({ id: nextId++, req, backend, resolve, reject });
        pumpSoon();
      });
    },
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.reject(fail('internal', 'executor closed'));
      for (const s of slots) {
        for (const job of s.jobs.splice(0)) job.reject(fail('internal', 'executor closed'));
        stop(s);
      }
      await Promise.all([...dying]);
    },
  };
}

/**
 * The Node executor: a pool of isolated ONNX Runtime runners (see runner.ts:
 * worker_threads for onnxruntime-web WASM, child processes for
 * onnxruntime-node CPU/CUDA). Each keeps sessions by model hash; a task past
 * its timeout is killed with its runner, which is replaced, so the pool keeps
 * serving.
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
import { detectBackends } from './detect-backends.ts';
import { createRunner, type Runner, type RunnerKind } from './runner.ts';
import { parseWorkerReply, type WorkerRunMessage } from './worker-protocol.ts';

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
}

export const NODE_EXECUTOR_DEFAULTS = {
  maxModelBytes: 256 * 1024 * 1024,
  maxTensorBytes: 64 * 1024 * 1024,
  maxSessionsPerWorker: 8,
  intraOpThreads: 1,
} as const;

interface Pending {
  readonly req: ExecRequest;
  readonly backend: Backend;
  readonly resolve: (r: ExecResult) => void;
  readonly reject: (e: PeerGridError) => void;
}

interface Slot {
  runner: Runner | null;
  /** Session keys (`backend:hash`) the runner holds, so models are sent once. */
  readonly keys: Set<string>;
  job: Pending | null;
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

/** Creates the Node executor. Runners start lazily, on the first run that needs one. */
export function createNodeExecutor(options: NodeExecutorOptions = {}): Executor {
  const concurrency = Math.max(1, options.concurrency ?? availableParallelism());
  const maxModelBytes = options.maxModelBytes ?? NODE_EXECUTOR_DEFAULTS.maxModelBytes;
  const maxTensorBytes = options.maxTensorBytes ?? NODE_EXECUTOR_DEFAULTS.maxTensorBytes;
  const config = {
    intraOpThreads: options.intraOpThreads ?? NODE_EXECUTOR_DEFAULTS.intraOpThreads,
    maxSessions: options.maxSessionsPerWorker ?? NODE_EXECUTOR_DEFAULTS.maxSessionsPerWorker,
    maxTensorBytes,
  };
  const slots: Slot[] = [];
  const queue: Pending[] = [];
  const dying = new Set<Promise<void>>();
  let closed = false;

  function start(s: Slot, kind: RunnerKind): Runner {
    const runner: Runner = createRunner(kind, config, {
      message: (raw) => onReply(s, runner, raw),
      died: (reason) => onCrash(s, runner, reason),
    });
    s.runner = runner;
    return runner;
  }

  /** Kills the slot's runner (its task, if any, is over) and leaves the slot empty. */
  function stop(s: Slot): void {
    const runner = s.runner;
    s.runner = null;
    s.keys.clear();
    if (!runner) return;
    const p = runner.kill();
    dying.add(p);
    void p.finally(() => dying.delete(p));
  }

  function finish(s: Slot): Pending | null {
    const job = s.job;
    s.job = null;
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
    return job;
  }

  function onCrash(s: Slot, runner: Runner, reason: string): void {
    if (s.runner !== runner) return;
    finish(s)?.reject(fail('internal', reason));
    stop(s);
    pump();
  }

  function post(s: Slot, job: Pending, withModel: boolean): void {
    const msg: WorkerRunMessage = {
      type: 'run',
      backend: job.backend,
      modelHash: job.req.modelHash,
      model: withModel ? job.req.model : undefined,
      feeds: job.req.feeds,
      outputs: job.req.outputs,
    };
    if (withModel) s.keys.add(`${job.backend}:${job.req.modelHash}`);
    s.runner?.post(msg);
  }

  function onReply(s: Slot, runner: Runner, raw: unknown): void {
    if (s.runner !== runner) return;
    const reply = parseWorkerReply(raw);
    if (!reply) {
      finish(s)?.reject(fail('internal', 'malformed reply from a runner'));
      pump();
      return;
    }
    for (const key of reply.evicted) s.keys.delete(key);
    const job = s.job;
    if (!job) return;
    if (reply.type === 'need-model') {
      post(s, job, true);
      return;
    }
    finish(s);
    if (reply.type === 'result') {
      job.resolve({ outputs: reply.outputs, backend: job.backend, computeMs: reply.computeMs });
    } else {
      job.reject(fail(reply.code, reply.message));
    }
    pump();
  }

  function pump(): void {
    while (queue.length > 0 && !closed) {
      let s = slots.find((x) => x.job === null);
      if (!s && slots.length < concurrency) {
        s = { runner: null, keys: new Set(), job: null, timer: null };
        slots.push(s);
      }
      if (!s) return;
      const job = queue.shift() as Pending;
      const kind = kindFor(job.backend);
      if (s.runner && s.runner.kind !== kind) stop(s);
      if (!s.runner) start(s, kind);
      s.job = job;
      const slot = s;
      s.timer = setTimeout(() => {
        finish(slot);
        job.reject(fail('timeout', `task exceeded ${job.req.timeoutMs} ms; its runner was killed`));
        stop(slot);
        pump();
      }, job.req.timeoutMs);
      post(s, job, !s.keys.has(`${job.backend}:${job.req.modelHash}`));
    }
  }

  async function pickBackend(req: ExecRequest): Promise<Backend> {
    const report = await detectBackends();
    const wanted = req.backend ?? (options.backend === 'auto' ? undefined : options.backend);
    if (wanted) {
      if (!report.backends.includes(wanted)) {
        throw fail(
          'backend-unavailable',
          `backend '${wanted}' is not available: ${report.missing[wanted] ?? 'unknown reason'}`,
        );
      }
      return wanted;
    }
    const best = report.backends[0];
    if (!best) throw fail('backend-unavailable', 'no ONNX Runtime backend could be loaded');
    return best;
  }

  return {
    concurrency,
    async backends() {
      return (await detectBackends()).backends;
    },
    async run(req) {
      if (closed) throw fail('internal', 'executor is closed');
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
        queue.push({ req, backend, resolve, reject });
        pump();
      });
    },
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.reject(fail('internal', 'executor closed'));
      for (const s of slots) {
        finish(s)?.reject(fail('internal', 'executor closed'));
        stop(s);
      }
      await Promise.all([...dying]);
    },
  };
}

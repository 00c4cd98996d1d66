// Runner entry of the Node executor, as a worker_thread or a child process
// (see runner.ts); plain JS so it loads without a TypeScript loader. One ORT
// session cache per runner, keyed by `${backend}:${modelHash}`, LRU-bounded.
// Protocol: see worker-protocol.ts (the executor side): batches of runs in,
// batches of replies out.
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

const port = parentPort ?? {
  postMessage: (msg) => process.send?.(msg),
  on: (event, fn) => process.on(event, fn),
};
if (!parentPort) process.on('disconnect', () => process.exit(0));
const config = parentPort ? workerData : JSON.parse(process.env.PEERGRID_RUNNER_CONFIG ?? '{}');
const { intraOpThreads, maxSessions, maxTensorBytes } = config;
/** @type {Map<string, {session: any, ort: any}>} */
const sessions = new Map();
/** @type {Record<string, Promise<any>>} */
const runtimes = {};
/** Session keys dropped since the last replies went out (they tell the executor). */
let evicted = [];

const TYPED = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  int8: Int8Array,
  bool: Uint8Array,
};

class ExecFailure extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function loadRuntime(backend) {
  if (!runtimes[backend]) {
    runtimes[backend] =
      backend === 'wasm'
        ? import('onnxruntime-web').then((ort) => {
            // One thread, no proxy worker: deterministic and one core per pool thread.
            ort.env.wasm.numThreads = 1;
            ort.env.wasm.proxy = false;
            return ort;
          })
        : import('onnxruntime-node');
  }
  return runtimes[backend].catch((err) => {
    throw new ExecFailure(
      'backend-unavailable',
      `cannot load the ${backend} runtime: ${err.message}`,
    );
  });
}

/** ORT errors that mean the CUDA device or context failed, not the model or its inputs. */
const CUDA_FAILURE = /cuda|cudnn|cublas|device|illegal memory|launch failure|ECC/i;

async function getSession(backend, hash, model) {
  const key = `${backend}:${hash}`;
  const hit = sessions.get(key);
  if (hit) {
    sessions.delete(key);
    sessions.set(key, hit);
    return hit;
  }
  if (!model) return null;
  const ort = await loadRuntime(backend);
  const options = { graphOptimizationLevel: 'all' };
  if (backend !== 'wasm') {
    options.intraOpNumThreads = intraOpThreads;
    options.interOpNumThreads = 1;
    options.executionMode = 'sequential';
    options.executionProviders = [backend === 'cuda' ? 'cuda' : 'cpu'];
  } else {
    options.executionProviders = ['wasm'];
  }
  let session;
  try {
    session = await ort.InferenceSession.create(model, options);
  } catch (err) {
    evicted.push(key);
    const msg = String(err?.message ?? err);
    if (backend === 'cuda' && /cuda|provider/i.test(msg)) {
      // The GPU's failure: no charge to the task, and the executor falls back to CPU.
      throw new ExecFailure('device-lost', `CUDA execution provider failed: ${msg}`);
    }
    throw new ExecFailure('bad-model', `cannot load model ${hash.slice(0, 12)}: ${msg}`);
  }
  const entry = { session, ort };
  sessions.set(key, entry);
  while (sessions.size > maxSessions) {
    const [oldKey, old] = sessions.entries().next().value;
    sessions.delete(oldKey);
    evicted.push(oldKey);
    old.session.release?.().catch(() => {});
  }
  return entry;
}

function checkFeeds(session, feeds) {
  for (const meta of session.inputMetadata) {
    const t = feeds[meta.name];
    if (!t) {
      const given = Object.keys(feeds).join(', ') || 'none';
      throw new ExecFailure('bad-input', `missing input '${meta.name}' (given: ${given})`);
    }
    if (!meta.isTensor) continue;
    if (meta.type !== t.dtype) {
      throw new ExecFailure(
        'bad-input',
        `input '${meta.name}' must be ${meta.type}, got ${t.dtype}`,
      );
    }
    const shape = meta.shape;
    const fixed =
      shape.length > 0 &&
      (shape.length !== t.dims.length ||
        shape.some((d, i) => typeof d === 'number' && d >= 0 && d !== t.dims[i]));
    if (fixed) {
      throw new ExecFailure(
        'bad-input',
        `input '${meta.name}' must have shape [${shape.join(',')}], got [${t.dims.join(',')}]`,
      );
    }
  }
  for (const name of Object.keys(feeds)) {
    if (!session.inputNames.includes(name)) {
      throw new ExecFailure(
        'bad-input',
        `unknown input '${name}' (model inputs: ${session.inputNames.join(', ')})`,
      );
    }
  }
}

function toOrt(ort, t) {
  const Typed = TYPED[t.dtype];
  const bytes = t.data.byteOffset % Typed.BYTES_PER_ELEMENT === 0 ? t.data : t.data.slice();
  const values = new Typed(
    bytes.buffer,
    bytes.byteOffset,
    bytes.byteLength / Typed.BYTES_PER_ELEMENT,
  );
  return new ort.Tensor(t.dtype, values, t.dims);
}

function fromOrt(name, v) {
  if (!TYPED[v.type])
    throw new ExecFailure('bad-model', `output '${name}' has unsupported type ${v.type}`);
  const src = v.data;
  if (src.byteLength > maxTensorBytes) {
    throw new ExecFailure(
      'too-large',
      `output '${name}' is ${src.byteLength} bytes, over the ${maxTensorBytes}-byte limit`,
    );
  }
  const data = new Uint8Array(src.byteLength);
  data.set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength));
  return { dtype: v.type, dims: [...v.dims], data };
}

async function run(msg) {
  try {
    const entry = await getSession(msg.backend, msg.modelHash, msg.model);
    if (!entry) return { type: 'need-model', id: msg.id };
    const { session, ort } = entry;
    checkFeeds(session, msg.feeds);
    const feeds = {};
    for (const [name, t] of Object.entries(msg.feeds)) feeds[name] = toOrt(ort, t);
    const names = msg.outputs ?? session.outputNames;
    for (const name of names) {
      if (!session.outputNames.includes(name)) {
        throw new ExecFailure(
          'bad-input',
          `unknown output '${name}' (model outputs: ${session.outputNames.join(', ')})`,
        );
      }
    }
    const start = performance.now();
    let result;
    try {
      result = await session.run(feeds, names);
    } catch (err) {
      const m = String(err?.message ?? err);
      // A CUDA session failing mid-run is the GPU's failure (device lost, driver reset, a
      // poisoned context), not the task's: no result, and the executor falls back to CPU.
      if (msg.backend === 'cuda' && CUDA_FAILURE.test(m)) {
        for (const [key, e] of sessions) {
          if (!key.startsWith('cuda:')) continue;
          sessions.delete(key);
          evicted.push(key);
          e.session.release?.().catch(() => {});
        }
        throw new ExecFailure('device-lost', `CUDA session failed: ${m}`);
      }
      throw new ExecFailure('bad-input', `run failed: ${m}`);
    }
    const computeMs = performance.now() - start;
    const outputs = {};
    for (const name of names) outputs[name] = fromOrt(name, result[name]);
    for (const v of Object.values(result)) v.dispose?.();
    return { type: 'result', id: msg.id, outputs, computeMs };
  } catch (err) {
    const code = err instanceof ExecFailure ? err.code : 'internal';
    return { type: 'error', id: msg.id, code, message: String(err?.message ?? err) };
  }
}

// Runs arrive in batches and run one after another; what is done goes back
// in one message when the inbox is empty, or FLUSH_MS after the oldest reply
// waiting (so a long run never holds back the results before it).
const FLUSH_MS = 2;
const inbox = [];
let outbox = [];
let flushTimer = null;
let draining = false;

function flush() {
  if (flushTimer) clearTimeout(flushTimer);
  flushTimer = null;
  if (outbox.length === 0) return;
  const replies = outbox;
  const dropped = evicted;
  outbox = [];
  evicted = [];
  const transfer = [];
  for (const r of replies) {
    if (r.type === 'result') for (const t of Object.values(r.outputs)) transfer.push(t.data.buffer);
  }
  port.postMessage({ type: 'replies', replies, evicted: dropped }, transfer);
}

async function drain() {
  if (draining) return;
  draining = true;
  while (inbox.length > 0) {
    const msg = inbox.shift();
    const reply = await run(msg); // not `outbox.push(await …)`: a flush meanwhile swaps `outbox`
    outbox.push(reply);
    if (inbox.length === 0) flush();
    else flushTimer ??= setTimeout(flush, FLUSH_MS);
  }
  draining = false;
}

port.on('message', (msg) => {
  if (msg?.type !== 'runs' || !Array.isArray(msg.runs)) return;
  inbox.push(...msg.runs);
  void drain();
});

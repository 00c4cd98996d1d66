/**
 * The body of one ORT worker: inference sessions by model hash, WebGPU first
 * when asked and the model runs on it, WASM otherwise. Runs inside a Web
 * Worker in the page (see ort-worker.ts); tests run it in Node.
 */
import type { Backend, Tensor, TensorMap, WireError } from '@peergrid/shared';
import type * as Ort from 'onnxruntime-web';
import type { InputSpec } from '../lib/feed-check.ts';
import { checkFeeds } from '../lib/feed-check.ts';
import { classifyOrtError, fromOrtTensor, type OrtModule, toOrtTensor } from './ort-tensors.ts';
import { warmModel } from './warm-model.ts';
import type {
  ModelInfo,
  OrtWorkerApi,
  WorkerInfo,
  WorkerInit,
  WorkerReply,
  WorkerRunRequest,
  WorkerRunResult,
} from './worker-protocol.ts';
import { DEVICE_LOST, NEED_MODEL } from './worker-protocol.ts';

/**
 * Resolves in a later task: a MessageChannel post, not setTimeout(0), which
 * a worker running runs back to back (run-inbox.ts) nests deep enough to be
 * clamped to 4 ms each.
 */
function nextTask(): Promise<void> {
  if (typeof MessageChannel === 'undefined') return new Promise((r) => setTimeout(r, 0));
  return new Promise((r) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      r();
    };
    port2.postMessage(0);
  });
}

/** Sessions kept per worker; the least recently used is released past this. Default 4. */
export const MAX_SESSIONS = 4;

/**
 * ORT's WASM-only build, or its WebGPU (JSEP) build when this worker has an
 * adapter to use: the WASM-only binary is half the size (14 against 28 MB to
 * download and compile), and a donor without a GPU never needs the other.
 */
function loadOrt(webgpu: boolean): Promise<OrtModule> {
  return webgpu ? import('onnxruntime-web') : import('onnxruntime-web/wasm');
}

/** The parts of a GPUDevice the host uses (no WebGPU types in this build). */
interface GpuDeviceLike {
  readonly lost: Promise<{ readonly reason?: string; readonly message?: string }>;
  destroy(): void;
}

interface Entry {
  readonly session: Ort.InferenceSession;
  readonly backend: Backend;
  readonly inputs: readonly InputSpec[];
}

/** One worker's ORT state. `wasmPaths` empty = ORT's own default location (Node tests). */
export function createOrtHost(): OrtWorkerApi {
  const sessions = new Map<string, Entry>();
  let gpuUsable = false;
  /** ORT's WebGPU device, once a WebGPU session made it. */
  let device: GpuDeviceLike | null = null;
  /** Why the device was lost, once it was: this ORT instance cannot use the GPU again. */
  let deviceLost: string | null = null;
  /** Device losses so far: a run that saw one while it ran is no result. */
  let losses = 0;
  /** Settles when the current device is lost (a run on it may otherwise never settle). */
  let whenLost: Promise<void> = new Promise(() => {});

  /** Watches ORT's device: on loss, every session goes (they hold GPU buffers) and WASM it is. */
  async function watchDevice(ort: OrtModule): Promise<void> {
    const d = (await ort.env.webgpu.device) as unknown as GpuDeviceLike | undefined;
    if (!d || d === device) return;
    device = d;
    whenLost = d.lost.then(() => {});
    void d.lost.then((info) => {
      if (device !== d) return;
      losses++;
      deviceLost = `${info.reason ?? 'unknown'}: ${info.message ?? 'GPU device lost'}`;
      device = null;
      gpuUsable = false;
      for (const e of sessions.values()) void e.session.release().catch(() => {});
      sessions.clear();
    });
  }
  /** Loaded by `init`; a host used before it (inspect only) gets the WASM-only build. */
  let loaded: Promise<OrtModule> | null = null;
  /** `loaded` is the build with WebGPU. */
  let loadedWithGpu = false;
  // A WASM-only build loaded before the GPU was found (an inspect racing `init`) is
  // replaced once WebGPU is usable: a session on it could never use the GPU.
  const ortModule = () => {
    if (!loaded || (gpuUsable && !loadedWithGpu)) {
      loaded = loadOrt(gpuUsable);
      loadedWithGpu = gpuUsable;
    }
    return loaded;
  };

  async function init(opts: WorkerInit): Promise<WorkerInfo> {
    gpuUsable = false;
    // Node 20 has no `navigator`: no GPU there.
    const nav = globalThis.navigator as
      | (Navigator & { gpu?: { requestAdapter(): Promise<unknown> } })
      | undefined;
    const gpu = nav?.gpu;
    if (opts.gpu && gpu) {
      try {
        gpuUsable = (await gpu.requestAdapter()) !== null;
      } catch {
        gpuUsable = false;
      }
    }
    loaded = loadOrt(gpuUsable);
    loadedWithGpu = gpuUsable;
    const ort = await loaded;
    if (opts.wasmPaths) ort.env.wasm.wasmPaths = opts.wasmPaths;
    ort.env.wasm.numThreads = opts.threads;
    ort.env.logLevel = 'error';
    return { backends: gpuUsable ? ['webgpu', 'wasm'] : ['wasm'], threads: opts.threads };
  }

  function specs(session: Ort.InferenceSession): InputSpec[] {
    return session.inputMetadata.map((m) =>
      m.isTensor
        ? { name: m.name, type: m.type, shape: m.shape }
        : { name: m.name, type: 'non-tensor', shape: [] },
    );
  }

  async function createSession(model: Uint8Array, preferred?: Backend): Promise<Entry> {
    const ort = await ortModule();
    const tryGpu = gpuUsable && preferred !== 'wasm';
    if (tryGpu) {
      try {
        const session = await ort.InferenceSession.create(model, {
          executionProviders: ['webgpu'],
        });
        await watchDevice(ort);
        return { session, backend: 'webgpu', inputs: specs(session) };
      } catch (err) {
        // The model does not run on WebGPU here (unsupported op, device lost): WASM it is.
        console.warn(`WebGPU session failed, running on WASM: ${(err as Error).message ?? err}`);
      }
    }
    const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
    return { session, backend: 'wasm', inputs: specs(session) };
  }

  async function sessionFor(req: WorkerRunRequest): Promise<Entry> {
    const key = `${req.modelHash}:${req.backend ?? ''}`;
    const hit = sessions.get(key);
    if (hit) {
      sessions.delete(key);
      sessions.set(key, hit);
      return hit;
    }
    if (!req.model) throw wire(NEED_MODEL, `model ${req.modelHash} not loaded in this worker`);
    let entry: Entry;
    try {
      entry = await createSession(req.model, req.backend);
    } catch (e) {
      throw wire('bad-model', `cannot load model: ${(e as Error).message ?? String(e)}`);
    }
    sessions.set(key, entry);
    while (sessions.size > MAX_SESSIONS) {
      const oldest = sessions.keys().next().value as string;
      void sessions.get(oldest)?.session.release();
      sessions.delete(oldest);
    }
    return entry;
  }

  async function execute(entry: Entry, req: WorkerRunRequest): Promise<TensorMap> {
    const ort = await ortModule();
    const feeds: Record<string, Ort.Tensor> = {};
    for (const [name, t] of Object.entries(req.feeds)) feeds[name] = toOrtTensor(ort, t);
    const fetches = req.outputs ? [...req.outputs] : undefined;
    const result = fetches
      ? await entry.session.run(feeds, fetches)
      : await entry.session.run(feeds);
    const outputs: Record<string, Tensor> = {};
    for (const [name, value] of Object.entries(result))
      outputs[name] = await fromOrtTensor(value as Ort.Tensor);
    return outputs;
  }

  async function run(req: WorkerRunRequest): Promise<WorkerReply<WorkerRunResult>> {
    try {
      let entry = await sessionFor(req);
      const misfit = checkFeeds(entry.inputs, req.feeds);
      if (misfit) return fail(wire('bad-input', misfit));
      const t0 = performance.now();
      const lossesBefore = losses;
      const lostMidRun = () =>
        entry.backend === 'webgpu' && losses !== lossesBefore
          ? wire(DEVICE_LOST, `the GPU device was lost during the run (${deviceLost})`)
          : null;
      let outputs: TensorMap;
      try {
        // On WebGPU, a lost device may leave the run pending for ever: the loss ends the wait.
        const run = execute(entry, req);
        outputs =
          entry.backend === 'webgpu'
            ? await Promise.race([
                run,
                whenLost.then(() => Promise.reject(new Error('device lost'))),
              ])
            : await run;
      } catch (e) {
        // Give the lost promise its turn: a destroyed device fails the run before it settles.
        if (entry.backend === 'webgpu') await nextTask();
        const lost = lostMidRun();
        if (lost) return fail(lost);
        if (entry.backend !== 'webgpu' || !req.model)
          throw wire(classifyOrtError(e), String((e as Error).message ?? e));
        // A kernel failed on WebGPU: this model runs on WASM in this worker from now on.
        entry = await createSession(req.model, 'wasm');
        sessions.set(`${req.modelHash}:${req.backend ?? ''}`, entry);
        outputs = await execute(entry, req);
      }
      // Outputs computed while the device went away are never a result.
      if (entry.backend === 'webgpu') await nextTask();
      const lost = lostMidRun();
      if (lost) return fail(lost);
      return {
        ok: true,
        value: { outputs, backend: entry.backend, computeMs: performance.now() - t0 },
      };
    } catch (e) {
      return fail(isWire(e) ? e : wire(classifyOrtError(e), String((e as Error)?.message ?? e)));
    }
  }

  async function inspect(model: Uint8Array): Promise<WorkerReply<ModelInfo>> {
    try {
      const ort = await ortModule();
      const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
      const info: ModelInfo = {
        inputs: specs(session),
        outputs: [...session.outputNames],
        outputSpecs: session.outputMetadata.map((m) =>
          m.isTensor
            ? { name: m.name, type: m.type, shape: m.shape }
            : { name: m.name, type: 'non-tensor', shape: [] },
        ),
      };
      await session.release();
      return { ok: true, value: info };
    } catch (e) {
      return fail(
        wire(
          'bad-model',
          `not a model ONNX Runtime can load: ${(e as Error).message ?? String(e)}`,
        ),
      );
    }
  }

  /** Creates and releases a session of a one-node model: ORT's WASM is then loaded and compiled. */
  async function warm(): Promise<WorkerReply<void>> {
    try {
      const ort = await ortModule();
      const session = await ort.InferenceSession.create(warmModel(), {
        executionProviders: ['wasm'],
      });
      await session.release();
      return { ok: true, value: undefined };
    } catch (e) {
      return fail(wire('backend-unavailable', `cannot start ONNX Runtime: ${String(e)}`));
    }
  }

  function wire(code: string, message: string): WireError {
    return { code, message };
  }
  function isWire(e: unknown): e is WireError {
    return (
      typeof e === 'object' && e !== null && 'code' in e && 'message' in e && !(e instanceof Error)
    );
  }
  function fail(error: WireError): { ok: false; error: WireError } {
    return { ok: false, error };
  }

  async function destroyDevice(): Promise<boolean> {
    if (!device) return false;
    device.destroy();
    return true;
  }

  return { init, run, inspect, warm, destroyDevice };
}

/**
 * One isolated ORT runner executing ort-worker.mjs: a worker_thread (for
 * WASM) or a child process (for onnxruntime-node). Native runs go to a
 * process because terminating a worker_thread while onnxruntime-node is
 * inside a run aborts the whole Node process when the run returns (seen with
 * onnxruntime-node 1.30); a process can be SIGKILLed at any time, and V8 can
 * stop a thread running WASM cleanly.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

export type RunnerKind = 'thread' | 'process';

/** Settings every runner gets at start. */
export interface RunnerConfig {
  readonly intraOpThreads: number;
  readonly maxSessions: number;
  readonly maxTensorBytes: number;
}

export interface Runner {
  readonly kind: RunnerKind;
  post(msg: unknown): void;
  /** Stops the runner now; resolves when it is gone. */
  kill(): Promise<void>;
}

export interface RunnerEvents {
  message(raw: unknown): void;
  /** The runner died on its own (crash, exit) — not after kill(). */
  died(reason: string): void;
}

const ENTRY = new URL('./ort-worker.mjs', import.meta.url);
export const RUNNER_CONFIG_ENV = 'PEERGRID_RUNNER_CONFIG';

export function createRunner(kind: RunnerKind, config: RunnerConfig, events: RunnerEvents): Runner {
  let killed = false;
  const died = (reason: string) => {
    if (!killed) {
      killed = true;
      events.died(reason);
    }
  };
  if (kind === 'thread') {
    const worker = new Worker(ENTRY, { workerData: config });
    worker.on('message', (m) => killed || events.message(m));
    worker.on('error', (err) => died(`worker thread crashed: ${err.message}`));
    worker.on('exit', (code) => died(`worker thread exited with code ${code}`));
    return {
      kind,
      post: (msg) => worker.postMessage(msg),
      async kill() {
        killed = true;
        await worker.terminate();
      },
    };
  }
  const child = fork(fileURLToPath(ENTRY), [], {
    execArgv: [],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [RUNNER_CONFIG_ENV]: JSON.stringify(config) },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.on('message', (m) => killed || events.message(m));
  child.on('error', (err) => died(`runner process error: ${err.message}`));
  child.on('exit', (code, signal) => died(`runner process exited (${signal ?? code})`));
  return {
    kind,
    post: (msg) => {
      if (child.connected) child.send(msg as object);
    },
    async kill() {
      killed = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

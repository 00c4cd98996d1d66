/**
 * A grid on loopback for integration tests: the signaling server in this
 * process (port 0), `peergrid-worker` child processes, and a submitter grid
 * peer in this process that runs jobs with the shared job runner.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createMemoryBlobCache,
  type Executor,
  type IceServer,
  type JobOutcome,
  type JobProgress,
  type JobSpec,
  type JobStore,
  type ReputationBook,
  type TensorMap,
} from '@peergrid/shared';
import { type RunningSignalingServer, startSignalingServer } from '@peergrid/signaling';
import { connectNodeGridPeer, type NodeGridPeer } from '../../src/worker/node-grid-peer.ts';
import { loadOrCreateIdentity } from '../../src/worker/node-identity.ts';
import { prepareNodeJob } from '../../src/worker/node-job.ts';
import type { SabotageStrategy } from '../../src/worker/test-sabotage.ts';

export const WORKER_BIN = fileURLToPath(new URL('../../bin/peergrid-worker.js', import.meta.url));

export interface WorkerSpec {
  /** `--test-only-sabotage` (true: the bare flag, `always`). Default off. */
  readonly sabotage?: boolean | SabotageStrategy;
  /** `--test-only-betray-after N`. Default: the worker's (30). */
  readonly betrayAfter?: number;
  readonly concurrency?: number;
  /** `--ice-relay`: links through the grid's TURN server only. Default off. */
  readonly iceRelay?: boolean;
  /** More flags, after the others (e.g. `--schedule`). Default none. */
  readonly args?: readonly string[];
}

export interface TestWorker {
  readonly child: ChildProcess;
  /** Its stderr so far. */
  log(): string;
  /** Its peer id, once it logged joining. */
  readonly id: () => string | undefined;
}

export interface TestGrid {
  readonly signalUrl: string;
  readonly grid: string;
  readonly dir: string;
  readonly workers: TestWorker[];
  readonly submitter: NodeGridPeer;
  /** Starts one more worker and waits until the submitter sees it. */
  addWorker(spec?: WorkerSpec): Promise<TestWorker>;
  close(): Promise<void>;
}

export function spawnWorker(signalUrl: string, grid: string, dir: string, spec: WorkerSpec = {}) {
  let text = '';
  const child = spawn(
    process.execPath,
    [
      WORKER_BIN,
      '--signal',
      signalUrl,
      '--grid',
      grid,
      '--concurrency',
      String(spec.concurrency ?? 1),
      '--backend',
      'cpu',
      '--cache',
      dir,
      '--drain-s',
      '5',
      ...(spec.sabotage === true ? ['--test-only-sabotage'] : []),
      ...(typeof spec.sabotage === 'string' ? ['--test-only-sabotage', spec.sabotage] : []),
      ...(spec.iceRelay ? ['--ice-relay'] : []),
      ...(spec.betrayAfter !== undefined
        ? ['--test-only-betray-after', String(spec.betrayAfter)]
        : []),
      ...(spec.args ?? []),
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...(spec.sabotage ? { PEERGRID_TEST_SABOTAGE: '1' } : {}) },
    },
  );
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    text += d;
  });
  return {
    child,
    log: () => text,
    id: () => /joined grid '[^']*' as (\S+)/.exec(text)?.[1],
  };
}

export async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startTestGrid(
  specs: readonly WorkerSpec[],
  o: {
    readonly grid?: string;
    /** A TURN server the signaling server hands out, with credentials signed by `secret`. */
    readonly turn?: { readonly iceServer: IceServer; readonly secret: string };
    /** The submitter links relay-only. Default false. */
    readonly submitterRelay?: boolean;
  } = {},
): Promise<TestGrid> {
  const server: RunningSignalingServer = await startSignalingServer({
    port: 0,
    host: '127.0.0.1',
    ...(o.turn ? { iceServers: [o.turn.iceServer], turnSecret: o.turn.secret } : {}),
  });
  const signalUrl = server.url.replace(/^http/, 'ws');
  const grid = o.grid ?? 'itest';
  const dir = mkdtempSync(join(tmpdir(), 'peergrid-itest-'));
  const workers: TestWorker[] = [];
  const identity = await loadOrCreateIdentity(join(dir, 'submitter.json'));
  const submitter = await connectNodeGridPeer({
    signal: signalUrl,
    grid,
    identity,
    capabilities: { runtime: 'node', backends: [], cores: 1, memoryMB: 0, maxConcurrency: 0 },
    cache: createMemoryBlobCache(),
    ...(o.submitterRelay ? { iceTransportPolicy: 'relay' as const } : {}),
  });
  const donorsSeen = () =>
    [...submitter.signaling.peers().values()].filter((p) => p.capabilities.maxConcurrency > 0)
      .length;
  const addWorker = async (spec: WorkerSpec = {}) => {
    const w = spawnWorker(signalUrl, grid, join(dir, `worker-${workers.length}`), spec);
    workers.push(w);
    const want = workers.length;
    await until(() => donorsSeen() >= want, 30_000, `worker ${want} to join`);
    return w;
  };
  try {
    for (const s of specs) await addWorker(s);
  } catch (err) {
    for (const w of workers) w.child.kill('SIGKILL');
    throw err;
  }
  return {
    signalUrl,
    grid,
    dir,
    workers,
    submitter,
    addWorker,
    async close() {
      for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGTERM');
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolve) => {
              if (w.child.exitCode !== null || w.child.signalCode !== null) return resolve();
              const t = setTimeout(() => w.child.kill('SIGKILL'), 8000);
              w.child.once('exit', () => {
                clearTimeout(t);
                resolve();
              });
            }),
        ),
      );
      await submitter.shutdown();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RunOptions {
  readonly reputation?: ReputationBook;
  readonly store?: JobStore;
  readonly onProgress?: (p: JobProgress) => void;
  /** Runs this executor in-process as an anchor of the job (the runner's `localAnchor`, cpu). */
  readonly localAnchor?: Executor;
}

export async function runJob(
  peer: NodeGridPeer,
  spec: JobSpec,
  o: RunOptions = {},
): Promise<JobOutcome> {
  const job = await prepareNodeJob({
    spec,
    ...(o.store ? { store: o.store } : {}),
    ...(o.reputation ? { reputation: o.reputation } : {}),
  });
  const runner = job.run(peer, {
    progressMs: 0,
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    ...(o.localAnchor ? { localAnchor: { executor: o.localAnchor, backend: 'cpu' as const } } : {}),
  });
  return runner.done;
}

/** Task ids whose grid outputs differ from the reference (byte for byte). */
export function mismatches(
  results: ReadonlyMap<string, TensorMap>,
  reference: ReadonlyMap<string, TensorMap>,
): string[] {
  const bad: string[] = [];
  for (const [id, ref] of reference) {
    const got = results.get(id);
    const same =
      got !== undefined &&
      Object.keys(ref).length === Object.keys(got).length &&
      Object.entries(ref).every(([name, t]) => {
        const g = got[name];
        return (
          g !== undefined &&
          g.dtype === t.dtype &&
          g.dims.join() === t.dims.join() &&
          Buffer.compare(Buffer.from(g.data), Buffer.from(t.data)) === 0
        );
      });
    if (!same) bad.push(id);
  }
  return bad;
}

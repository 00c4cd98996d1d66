/** Headless donors (`peergrid-worker`) as child processes, each with its own cache and identity. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Child, spawnChild } from './children.ts';
import { WORKER_BIN } from './paths.ts';

/** How long a worker may take to join its grid, ms. Default 30 000. */
export const WORKER_JOIN_MS = 30_000;

export interface NodeWorkerOptions {
  readonly signal: string;
  readonly grid: string;
  /** Tasks at once. Default 1 (the machine has few cores). */
  readonly concurrency?: number;
  /** Default 'cpu' (onnxruntime-node). */
  readonly backend?: 'cpu' | 'wasm';
  /** Returns wrong outputs (the worker's test-only switch). Default false. */
  readonly sabotage?: boolean;
  /** `--ice-relay`: links through the grid's TURN server only. Default false. */
  readonly iceRelay?: boolean;
  readonly name?: string;
}

export interface NodeWorker {
  /** Its peer id, from the join line. */
  readonly id: string;
  readonly child: Child;
  /** SIGKILL: gone without a goodbye. */
  kill(): Promise<void>;
  /** SIGTERM with no drain, then the cache directory is removed. */
  stop(): Promise<void>;
}

/**
 * Runs `peergrid-worker --help` once, which (re)builds the worker's bundle
 * when a source changed (node-worker/scripts/worker-bundle.mjs): a build
 * step, kept out of timed runs as the page's build is.
 */
export function warmNodeWorker(): void {
  execFileSync(process.execPath, [WORKER_BIN, '--help'], { stdio: 'ignore', timeout: 60_000 });
}

export async function startNodeWorker(o: NodeWorkerOptions): Promise<NodeWorker> {
  const dir = mkdtempSync(join(tmpdir(), 'peergrid-e2e-worker-'));
  const args = [
    WORKER_BIN,
    '--signal',
    o.signal,
    '--grid',
    o.grid,
    '--concurrency',
    String(o.concurrency ?? 1),
    '--backend',
    o.backend ?? 'cpu',
    '--cache',
    dir,
    '--drain-s',
    '0',
    ...(o.sabotage ? ['--test-only-sabotage'] : []),
    ...(o.iceRelay ? ['--ice-relay'] : []),
  ];
  const child = spawnChild(o.name ?? 'node-worker', process.execPath, args, {
    env: o.sabotage ? { PEERGRID_TEST_SABOTAGE: '1' } : {},
  });
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  child.proc.once('exit', cleanup);
  let id: string;
  try {
    const m = await child.waitFor(/joined grid '[^']*' as (\S+)/, WORKER_JOIN_MS);
    id = m[1] as string;
  } catch (e) {
    await child.stop('SIGKILL', 0);
    throw e;
  }
  return {
    id,
    child,
    kill: () => child.stop('SIGKILL', 0),
    stop: () => child.stop('SIGTERM', 5000),
  };
}

/**
 * bench:grid helpers: a loopback grid (signaling in this process, donor
 * child processes, a submitter peer here) and a timed job run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createMemoryBlobCache,
  type JobOutcome,
  type JobSpec,
  type Policy,
} from '@peergrid/shared';
import { type RunningSignalingServer, startSignalingServer } from '@peergrid/signaling';
import type { NodeWrtc, NodeWrtcKind } from '../src/transport/node-wrtc.ts';
import { connectNodeGridPeer, type NodeGridPeer } from '../src/worker/node-grid-peer.ts';
import { loadOrCreateIdentity } from '../src/worker/node-identity.ts';
import { prepareNodeJob } from '../src/worker/node-job.ts';
import { onDonorCores, type Pinning } from './pinning.ts';

const WORKER_BIN = fileURLToPath(new URL('../bin/peergrid-worker.js', import.meta.url));
const ECHO_DONOR = fileURLToPath(new URL('./echo-donor.ts', import.meta.url));

/**
 * One replica, no audits, and a target error near 1 (validateJob wants it in
 * (0, 1)): a lone newcomer's result (bound 0.2) is accepted as it arrives, so
 * a bench measures transport and execution, not verification.
 */
export const TRANSPORT_ONLY: Partial<Policy> = {
  replicas: 1,
  quorum: 1,
  auditRate: 0,
  soloAuditRate: 0,
  youngAuditRate: 0,
  targetError: 0.99,
};

export interface Cluster {
  readonly signalUrl: string;
  readonly dir: string;
  readonly server: RunningSignalingServer;
  readonly workers: ChildProcess[];
  readonly submitter: NodeGridPeer;
  close(): Promise<void>;
}

export interface ClusterOptions {
  readonly donors: number;
  readonly concurrency: number;
  readonly maxQueued: number;
  readonly native?: NodeWrtc;
  /** Donor mesh size (`--mesh`). Default: the worker's. */
  readonly mesh?: number;
  /** The donors' WebRTC library (`--webrtc`). Default: the worker's. */
  readonly webrtc?: NodeWrtcKind;
  /** Extra Node flags for the donor processes (e.g. `--cpu-prof`). Default none. */
  readonly nodeArgs?: readonly string[];
  /** Cap on the submitter's upload, bytes/s. Default none. */
  readonly uploadBytesPerSec?: number;
  /** Round trip added to every link of the submitter (test-only receive delay), ms. Default 0. */
  readonly rttMs?: number;
  /** Cores for the donor processes (see pinning.ts). Default: unpinned. */
  readonly pinning?: Pinning;
  /**
   * `worker`: `peergrid-worker` with onnxruntime-node runners. `echo`: donors
   * that answer every lease at once with no runner (echo-donor.ts). Default worker.
   */
  readonly donorKind?: 'worker' | 'echo';
}

export async function startCluster(o: ClusterOptions): Promise<Cluster> {
  const server = await startSignalingServer({ port: 0, host: '127.0.0.1' });
  const signalUrl = server.url.replace(/^http/, 'ws');
  const dir = mkdtempSync(join(tmpdir(), 'peergrid-bench-'));
  const donorArgs = (i: number): string[] =>
    o.donorKind === 'echo'
      ? [
          ...(o.nodeArgs ?? []),
          ...['--import', 'tsx', ECHO_DONOR, '--signal', signalUrl, '--grid', 'bench'],
          ...['--concurrency', String(o.concurrency), '--max-queued', String(o.maxQueued)],
          ...['--identity', join(dir, `w${i}.json`)],
        ]
      : [
          ...(o.nodeArgs ?? []),
          WORKER_BIN,
          ...['--signal', signalUrl, '--grid', 'bench', '--backend', 'cpu'],
          ...['--concurrency', String(o.concurrency), '--max-queued', String(o.maxQueued)],
          ...['--cache', join(dir, `w${i}`)],
          ...(o.mesh !== undefined ? ['--mesh', String(o.mesh)] : []),
          ...(o.webrtc !== undefined ? ['--webrtc', o.webrtc] : []),
        ];
  const pinning = o.pinning ?? { submitter: null, donors: null };
  const workers = Array.from({ length: o.donors }, (_, i) => {
    // taskset execs node: the child's pid is the donor's.
    const [cmd, args] = onDonorCores(pinning, process.execPath, donorArgs(i));
    return spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  });
  const identity = await loadOrCreateIdentity(join(dir, 'submitter.json'));
  const submitter = await connectNodeGridPeer({
    signal: signalUrl,
    grid: 'bench',
    identity,
    capabilities: { runtime: 'node', backends: [], cores: 1, memoryMB: 0, maxConcurrency: 0 },
    cache: createMemoryBlobCache(),
    ...(o.native ? { native: o.native } : {}),
    ...(o.rttMs ? { pool: { link: { testReceiveDelayMs: o.rttMs } } } : {}),
    ...(o.uploadBytesPerSec ? { blobOptions: { uploadBytesPerSec: o.uploadBytesPerSec } } : {}),
  });
  const t0 = Date.now();
  while ([...submitter.signaling.peers().values()].length < o.donors) {
    if (Date.now() - t0 > 60_000) throw new Error('donors did not join');
    await new Promise((r) => setTimeout(r, 50));
  }
  // Links up before anything is timed: a grid keeps its links between jobs, the
  // baseline has none to set up, and a donor whose link is still being made when
  // a short job starts would hold its window of leases idle through the job.
  await Promise.all(
    [...submitter.signaling.peers().keys()].map((id) => submitter.pool.connect(id)),
  );
  return {
    signalUrl,
    dir,
    server,
    workers,
    submitter,
    async close() {
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolve) => {
              if (w.exitCode !== null) return resolve();
              w.once('exit', () => resolve());
              w.kill('SIGTERM');
              setTimeout(() => w.kill('SIGKILL'), 8000).unref();
            }),
        ),
      );
      await submitter.shutdown();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TimedRun {
  readonly outcome: JobOutcome;
  readonly seconds: number;
  readonly tasksPerSec: number;
}

/** Runs a job through the grid; time from the first assign to the last commit. */
export async function timeJob(
  peer: NodeGridPeer,
  spec: JobSpec,
  pipeline: number,
  log: (line: string) => void,
): Promise<TimedRun> {
  const job = await prepareNodeJob({ spec });
  const t0 = performance.now();
  let lastLog = 0;
  const runner = job.run(peer, {
    pipeline,
    onProgress: (p) => {
      if (performance.now() - lastLog > 1000) {
        lastLog = performance.now();
        log(`  ${p.tasks.verified}/${p.total} verified`);
      }
    },
  });
  const outcome = await runner.done;
  const seconds = (performance.now() - t0) / 1000;
  if (outcome.state !== 'completed') throw new Error(`job ${outcome.state}`);
  return { outcome, seconds, tasksPerSec: spec.tasks.length / seconds };
}

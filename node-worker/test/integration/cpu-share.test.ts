/**
 * `peergrid-worker --cpu-share N` measured from outside: a real worker child
 * process (one slot) computes a job of ~50 ms matmul tasks over real WebRTC,
 * and its CPU time — the worker and its onnxruntime-node runner, read from
 * /proc — is divided by the wall time of a window in mid-job. The worker's
 * own gauge (`cpu_share_measured`, busy over wall of its slots) is scraped
 * beside it. Prints the figures (one JSON line).
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { JobSpec, Policy } from '@peergrid/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareNodeJob } from '../../src/worker/node-job.ts';
import { treeCpuMs } from '../../src/worker/proc-cpu.ts';
import { createMatmulJob } from '../../src/workloads/index.ts';
import { parsePromText } from '../worker/prom-text.ts';
import { startTestGrid, type TestGrid, until, WORKER_BIN } from './grid-harness.ts';

const SOLO: Partial<Policy> = {
  replicas: 1,
  quorum: 1,
  auditRate: 0,
  soloAuditRate: 0,
  youngAuditRate: 0,
  targetError: 0.99,
};
/** Wall time of the measured window, ms, after a warm-up of the same length. */
const WINDOW_MS = 5000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Measured {
  /** CPU time of the worker's process tree ÷ wall time (/proc). */
  readonly proc: number;
  /** The worker's own busy ÷ wall of its slot, last 30 s (its metrics). */
  readonly gauge: number;
}

async function measure(grid: TestGrid, percent: number): Promise<Measured> {
  let log = '';
  const child: ChildProcess = spawn(
    process.execPath,
    [
      WORKER_BIN,
      ...['--signal', grid.signalUrl, '--grid', grid.grid, '--concurrency', '1'],
      ...['--backend', 'cpu', '--mesh', '0', '--drain-s', '1'],
      ...['--cache', join(grid.dir, `share-${percent}`), '--cpu-share', String(percent)],
      ...['--metrics-port', '0', '--metrics-host', '127.0.0.1'],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    log += d;
  });
  try {
    await until(() => /metrics on http/.test(log) && /joined grid/.test(log), 30_000, 'join');
    const id = /joined grid '[^']*' as (\S+)/.exec(log)![1]!;
    const url = /metrics on (http:\/\/\S+)/.exec(log)![1]!;
    await until(
      () => [...grid.submitter.signaling.peers().values()].some((p) => p.id === id),
      30_000,
      'the submitter to see the worker',
    );
    // Far more work than the window holds: the job is cancelled after it.
    const wl = createMatmulJob({ size: 256, layers: 600, batch: 64, tasks: 400, seed: percent });
    const job = await prepareNodeJob({ spec: { ...wl.spec, policy: SOLO } satisfies JobSpec });
    const runner = job.run(grid.submitter, { progressMs: 0 });
    await until(() => runner.progress().tasks.verified >= 2, 60_000, 'the first results');
    await sleep(WINDOW_MS);
    const cpu0 = treeCpuMs(child.pid)!;
    const t0 = performance.now();
    await sleep(WINDOW_MS);
    const cpu1 = treeCpuMs(child.pid)!;
    const t1 = performance.now();
    const m = parsePromText(await (await fetch(url)).text());
    await runner.cancel();
    expect(m.get('peergrid_worker_cpu_share')).toBeCloseTo(percent / 100, 5);
    return { proc: (cpu1 - cpu0) / (t1 - t0), gauge: m.get('peergrid_worker_cpu_share_measured')! };
  } finally {
    child.kill('SIGTERM');
    await new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
  }
}

describe.runIf(treeCpuMs() !== null)('peergrid-worker --cpu-share, measured from /proc', () => {
  let grid: TestGrid;
  beforeAll(async () => {
    grid = await startTestGrid([]);
  }, 60_000);
  afterAll(async () => {
    await grid?.close();
  }, 30_000);

  it('keeps the worker busy about 25 %, 50 % and 100 % of the time', async () => {
    const at: Record<number, Measured> = {};
    for (const p of [100, 50, 25]) at[p] = await measure(grid, p);
    console.info(
      `cpu-share ${JSON.stringify(Object.fromEntries(Object.entries(at).map(([p, m]) => [p, { proc: +m.proc.toFixed(3), gauge: +m.gauge.toFixed(3) }])))}`,
    );
    // The slot's own count of busy time follows the share closely…
    expect(at[25]!.gauge).toBeGreaterThan(0.18);
    expect(at[25]!.gauge).toBeLessThan(0.32);
    expect(at[50]!.gauge).toBeGreaterThan(0.4);
    expect(at[50]!.gauge).toBeLessThan(0.6);
    expect(at[100]!.gauge).toBeGreaterThan(0.8);
    // …and so does the CPU the processes used, against a full share on the same box
    // (a ratio: other load on the machine slows all three alike).
    const full = at[100]!.proc;
    expect(full).toBeGreaterThan(0.5);
    expect(at[50]!.proc / full).toBeGreaterThan(0.35);
    expect(at[50]!.proc / full).toBeLessThan(0.65);
    expect(at[25]!.proc / full).toBeGreaterThan(0.15);
    expect(at[25]!.proc / full).toBeLessThan(0.37);
  }, 180_000);
});

/**
 * The `peergrid` CLI as a child process against a loopback grid (signaling in
 * this process, two `peergrid-worker` children): a model + .npy inputs run,
 * and an interrupted run that resumes without recomputing verified tasks.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_POLICY, tensorValues } from '@peergrid/shared';
import { type RunningSignalingServer, startSignalingServer } from '@peergrid/signaling';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDiskJobStore } from '../../src/store/disk-job-store.ts';
import { loadMnistFixtures, MNIST_FIXTURES } from '../../src/workloads/index.ts';
import { CLI, cli, summaryOf } from '../integration/cli-harness.ts';
import { spawnWorker, type TestWorker } from '../integration/grid-harness.ts';

describe('peergrid CLI', () => {
  let server: RunningSignalingServer;
  let signalUrl: string;
  let dir: string;
  const workers: TestWorker[] = [];
  const grid = 'cli-test';

  beforeAll(async () => {
    server = await startSignalingServer({ port: 0, host: '127.0.0.1' });
    signalUrl = server.url.replace(/^http/, 'ws');
    dir = mkdtempSync(join(tmpdir(), 'peergrid-cli-'));
    for (let i = 0; i < 2; i++) workers.push(spawnWorker(signalUrl, grid, join(dir, `w${i}`)));
    const t0 = Date.now();
    while (workers.some((w) => !w.id())) {
      if (Date.now() - t0 > 30_000) throw new Error('workers did not join');
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.child.exitCode !== null) return resolve();
            w.child.once('exit', () => resolve());
            w.child.kill('SIGTERM');
            setTimeout(() => w.child.kill('SIGKILL'), 8000).unref();
          }),
      ),
    );
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('prints help for every command', async () => {
    for (const args of [['--help'], ['run', '--help'], ['status', '--help']]) {
      let out = '';
      const c = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
      c.stdout?.on('data', (d) => {
        out += String(d);
      });
      expect(await new Promise((r) => c.once('exit', r))).toBe(0);
      expect(out).toMatch(/^peergrid /);
    }
  }, 30_000);

  it('runs a model over .npy inputs split into batches and writes the results', async () => {
    const out = join(dir, 'mnist.json');
    const run = cli(
      [
        'run',
        '--signal',
        signalUrl,
        '--grid',
        grid,
        '--model',
        MNIST_FIXTURES.model,
        '--inputs',
        MNIST_FIXTURES.pixels,
        '--batch',
        '250',
        '--state',
        join(dir, 'state-a'),
        '--out',
        out,
      ],
      dir,
    );
    expect(await run.exit, run.stderr()).toBe(0);
    const summary = summaryOf(run.stderr());
    expect(summary?.state).toBe('completed');
    expect(summary?.tasks).toBe(4);
    const file = JSON.parse(readFileSync(out, 'utf8')) as {
      tasks: Record<string, Record<string, { data: number[] }>>;
    };
    const predicted = ['rows-0', 'rows-250', 'rows-500', 'rows-750'].flatMap(
      (id) => file.tasks[id]?.label?.data ?? [],
    );
    const truth = Array.from(tensorValues(loadMnistFixtures().labels) as Uint8Array);
    expect(predicted).toHaveLength(1000);
    const correct = predicted.filter((v, i) => v === truth[i]).length;
    expect(correct / 1000).toBeGreaterThan(0.9);
  }, 90_000);

  it('resumes an interrupted run without recomputing verified tasks', async () => {
    const state = join(dir, 'state-b');
    const args = [
      'run',
      '--signal',
      signalUrl,
      '--grid',
      grid,
      '--workload',
      'matmul',
      '--preset',
      'ms20',
      '--tasks',
      '80',
      '--state',
      state,
    ];
    const first = cli(args, dir);
    // Interrupt once a good share is verified (progress lines arrive every 0.5 s off a terminal).
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => {
        const counts = [...first.stderr().matchAll(/ (\d+)\/80 verified/g)].map((m) =>
          Number(m[1]),
        );
        if ((counts.at(-1) ?? 0) >= 10) {
          clearInterval(t);
          first.child.kill('SIGINT');
          resolve();
        }
        if (first.child.exitCode !== null) {
          clearInterval(t);
          reject(new Error(`run ended before the interrupt:\n${first.stderr()}`));
        }
      }, 20);
    });
    expect(await first.exit).toBe(130);

    const store = await openDiskJobStore(state);
    const [job] = await store.listJobs();
    const snap = await store.loadSnapshot(job!.jobId);
    await store.close();
    const verified = new Set(
      snap!.tasks.filter((t) => t.state === 'verified').map((t) => t.taskId),
    );
    expect(verified.size).toBeGreaterThanOrEqual(10);
    expect(verified.size).toBeLessThan(80);
    // Final results (bound under the default target error) are done with;
    // one accepted short of it may still get more replicas after the resume.
    const before = new Set(
      snap!.results
        .filter((r) => verified.has(r.taskId) && r.bound <= DEFAULT_POLICY.targetError)
        .map((r) => r.taskId),
    );
    expect(before.size).toBeGreaterThanOrEqual(10);
    const seqAtInterrupt = snap!.job.seq;

    const second = cli([...args, '--check'], dir);
    expect(await second.exit, second.stderr()).toBe(0);
    const summary = summaryOf(second.stderr());
    expect(summary?.state).toBe('completed');
    expect(summary?.resumedVerified).toBe(verified.size);
    expect(summary?.check).toEqual({ matched: 80, total: 80 });

    // No task whose result was final before the interrupt was leased again.
    const after = await openDiskJobStore(state);
    const releases = (await after.events(job!.jobId, seqAtInterrupt)).filter(
      (e) => e.type === 'lease-issued' && before.has(e.taskId ?? ''),
    );
    await after.close();
    expect(releases).toEqual([]);
  }, 120_000);
});

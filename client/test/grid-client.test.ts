/**
 * `@peergrid/client` in Node against a loopback grid of two `peergrid-worker`
 * processes: progress as an async iterable, results equal to a local run,
 * errors as data with their codes, and a job stopped in one client resumed
 * by another over the same state directory with what it had verified.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createMatmulJob,
  createNodeExecutor,
  MATMUL_PRESETS,
  openDiskJobStore,
} from '@peergrid/node-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  mismatches,
  startTestGrid,
  type TestGrid,
} from '../../node-worker/test/integration/grid-harness.ts';
import {
  CLIENT_ERROR_CODES,
  connectGrid,
  type GridClient,
  GridClientError,
  type JobProgress,
  type JobSpec,
} from '../src/node.ts';

/** The code a rejected call carried, or 'none'. */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'none';
  } catch (err) {
    expect(err).toBeInstanceOf(GridClientError);
    expect(CLIENT_ERROR_CODES).toContain((err as GridClientError).code);
    return (err as GridClientError).code;
  }
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('@peergrid/client on a grid', () => {
  let grid: TestGrid;
  let dir: string;
  const connect = (state: string, localAnchor = true): Promise<GridClient> =>
    connectGrid({ signal: grid.signalUrl, grid: grid.grid, store: join(dir, state), localAnchor });

  beforeAll(async () => {
    grid = await startTestGrid([{}, {}]);
    dir = mkdtempSync(join(tmpdir(), 'pg-client-'));
  }, 90_000);
  afterAll(async () => {
    await grid?.close();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('runs a job: progress as it goes, then results equal to a local run', async () => {
    const wl = createMatmulJob({ preset: 'ms2', tasks: 12, seed: 3 });
    const client = await connect('a');
    try {
      const job = await client.submit({ ...wl.spec, policy: {} });
      expect(job.resumed).toBe(false);
      const seen: JobProgress[] = [];
      for await (const p of job.progress()) seen.push(p);
      expect(seen.length).toBeGreaterThan(1);
      const verified = seen.map((p) => p.tasks.verified);
      expect(verified).toEqual([...verified].sort((a, b) => a - b));
      expect(seen.at(-1)?.state).toBe('completed');
      expect(seen.at(-1)?.tasks.verified).toBe(12);
      const summary = await job.done;
      expect(summary).toMatchObject({ ok: true, state: 'completed', stopped: false, failed: [] });
      const results = await job.results();
      const local = createNodeExecutor({ backend: 'cpu', concurrency: 1 });
      const ref = await wl.reference(local, { backend: 'cpu' }).finally(() => local.close());
      expect(mismatches(results, ref)).toEqual([]);
      // The workers took part beside the local anchor.
      const workers = grid.workers.map((w) => w.id());
      const backers = new Set<string>();
      for await (const r of job.resultStream()) for (const b of r.backers) backers.add(b);
      expect([...backers].some((b) => workers.includes(b))).toBe(true);
      expect(client.donors().map((d) => d.id)).toEqual(expect.arrayContaining(workers));
    } finally {
      await client.close();
    }
  }, 120_000);

  it('says what is wrong with stable codes, and reports failed tasks as data', async () => {
    const client = await connect('b');
    try {
      const wl = createMatmulJob({ preset: 'tiny', tasks: 2, seed: 1 });
      const [modelHash] = Object.keys(wl.spec.models);
      const bad: JobSpec = { ...wl.spec, tasks: [{ ...wl.spec.tasks[0]!, model: 'nope' }] };
      expect(await codeOf(client.submit(bad))).toBe('bad-job');
      expect(await codeOf(client.resume('f'.repeat(64)))).toBe('unknown-job');
      // The tiny model takes x: float32 [batch, 4]; three columns fail on every donor.
      const size = MATMUL_PRESETS.tiny.size;
      const wrong: JobSpec = {
        models: wl.spec.models,
        tasks: [
          {
            id: 'bad-shape',
            model: modelHash!,
            feeds: {
              x: { tensor: { dtype: 'float32', dims: [1, size - 1], data: new Uint8Array(12) } },
            },
          },
        ],
        policy: { maxAttempts: 2 },
      };
      const job = await client.submit(wrong);
      expect(await codeOf(client.submit(wrong))).toBe('job-running');
      const summary = await job.done;
      expect(summary.ok).toBe(false);
      expect(summary.state).toBe('failed');
      expect(summary.failed.map((f) => f.taskId)).toEqual(['bad-shape']);
      expect(summary.failed[0]?.reason).toMatch(/\S/);
    } finally {
      await client.close();
    }
    expect(await codeOf(client.submit(createMatmulJob({ tasks: 1 }).spec))).toBe('closed');
    const port = await closedPort();
    expect(
      await codeOf(
        connectGrid({
          signal: `ws://127.0.0.1:${port}`,
          store: join(dir, 'c'),
          joinTimeoutMs: 2000,
        }),
      ),
    ).toBe('connect-failed');
  }, 120_000);

  it('resumes a stopped job from its state directory, its verified tasks kept', async () => {
    const wl = createMatmulJob({ preset: 'ms20', tasks: 30, seed: 11 });
    const first = await connect('d');
    const job = await first.submit(wl.spec);
    for await (const p of job.progress()) if (p.tasks.verified >= 5) break;
    await job.stop();
    const stopped = await job.done;
    expect(stopped.stopped).toBe(true);
    expect(stopped.ok).toBe(false);
    const before = stopped.progress.tasks.verified;
    expect(before).toBeGreaterThanOrEqual(5);
    expect(before).toBeLessThan(30);
    await first.close();

    const second = await connect('d');
    try {
      const [stored] = await second.jobs();
      expect(stored?.jobId).toBe(job.id);
      const again = await second.resume(job.id);
      expect(again.resumed).toBe(true);
      expect(again.snapshot().tasks.verified).toBe(before);
      expect((await again.done).ok).toBe(true);
      expect((await again.results()).size).toBe(30);
    } finally {
      await second.close();
    }
    // The state directory holds one accepted record per task.
    const store = await openDiskJobStore(join(dir, 'd'));
    let records = 0;
    for await (const _ of store.results(job.id)) records++;
    await store.close();
    expect(records).toBe(30);
  }, 180_000);
});

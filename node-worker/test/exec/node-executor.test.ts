import { PeerGridError, tensorValues } from '@peergrid/shared';
import { describe, expect, it } from 'vitest';
import { detectBackends } from '../../src/exec/detect-backends.ts';
import { batchFor, createNodeExecutor } from '../../src/exec/node-executor.ts';
import { createMatmulInput, createMatmulModel } from '../../src/workloads/matmul.ts';
import { modelHash } from '../../src/workloads/onnx-builder.ts';
import { describeExecutorCompliance } from './executor-compliance.ts';

describeExecutorCompliance('node executor, cpu (onnxruntime-node)', (o) =>
  createNodeExecutor({ ...o, backend: 'cpu' }),
);
describeExecutorCompliance('node executor, wasm (onnxruntime-web)', (o) =>
  createNodeExecutor({ ...o, backend: 'wasm' }),
);

describe('node executor backends', () => {
  it('offers cpu and wasm here, and refuses an absent backend with a clear message', async () => {
    const report = await detectBackends();
    expect(report.backends).toContain('cpu');
    expect(report.backends).toContain('wasm');
    const ex = createNodeExecutor({ concurrency: 1 });
    try {
      const model = createMatmulModel({ size: 4, layers: 1 });
      const req = {
        modelHash: modelHash(model),
        model,
        feeds: { x: createMatmulInput(1, 4, 1) },
        timeoutMs: 10_000,
      };
      const auto = await ex.run(req);
      expect(auto.backend).toBe(report.backends[0]);
      const err = await ex.run({ ...req, backend: 'webgpu' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PeerGridError);
      expect((err as PeerGridError).code).toBe('backend-unavailable');
      expect((err as PeerGridError).message).toMatch(/webgpu/);
      if (!report.backends.includes('cuda')) {
        const cuda = await ex.run({ ...req, backend: 'cuda' }).catch((e: unknown) => e);
        expect((cuda as PeerGridError).code).toBe('backend-unavailable');
        expect((cuda as PeerGridError).message).toMatch(/CUDA/);
      }
    } finally {
      await ex.close();
    }
  });
});

describe('node executor batches', () => {
  const model = createMatmulModel({ size: 16, layers: 2 });
  const req = (seed: number, timeoutMs = 30_000, m = model) => ({
    modelHash: modelHash(m),
    model: m,
    feeds: { x: createMatmulInput(1, m === model ? 16 : 256, seed) },
    timeoutMs,
    backend: 'cpu' as const,
  });
  const values = (r: { outputs: Record<string, { dtype: string }> }) =>
    Object.values(r.outputs).map((t) => [...(tensorValues(t as never) as Float32Array)]);

  it('shares a backlog out to its runners in batches, each run with its own result', async () => {
    const one = createNodeExecutor({ backend: 'cpu', concurrency: 1, maxBatch: 1 });
    const many = createNodeExecutor({ backend: 'cpu', concurrency: 2, maxBatch: 4 });
    try {
      const seeds = Array.from({ length: 24 }, (_, i) => i + 1);
      const alone = [];
      for (const s of seeds) alone.push(values(await one.run(req(s))));
      expect(one.ipcStats().messagesToRunners).toBe(24 + 0); // one message per run
      const together = await Promise.all(seeds.map((s) => many.run(req(s))));
      expect(together.map(values)).toEqual(alone);
      // 24 runs at once: two runners take four at a time, so far fewer messages than runs.
      expect(many.ipcStats().messagesToRunners).toBeLessThanOrEqual(8);
      expect(many.ipcStats().messagesFromRunners).toBeLessThan(24);
    } finally {
      await Promise.all([one.close(), many.close()]);
    }
  });

  it('sizes a batch to about batchMs of work by the measured run time, 2 to maxBatch runs', () => {
    expect(batchFor(0.001, 20, 32)).toBe(32); // near-empty runs: the cap
    expect(batchFor(2, 20, 32)).toBe(10);
    expect(batchFor(20, 20, 32)).toBe(2); // one running, one waiting
    expect(batchFor(1000, 20, 32)).toBe(2);
    expect(batchFor(2, 20, 4)).toBe(4);
    expect(batchFor(1, 20, 1)).toBe(1);
  });

  it('takes early runs by their measured time: many short ones, few long ones', async () => {
    const tiny = createMatmulModel({ size: 4, layers: 1 });
    const short = createNodeExecutor({ backend: 'cpu', concurrency: 2 });
    // batchMs 0: every run counts as long, so a runner holds one running and one waiting.
    const long = createNodeExecutor({ backend: 'cpu', concurrency: 2, batchMs: 0 });
    try {
      // Before any run is timed: one waiting per runner.
      expect(short.prefetch).toBe(2);
      expect(long.prefetch).toBe(2);
      const run = (ex: typeof short, seed: number) =>
        ex.run({
          modelHash: modelHash(tiny),
          model: tiny,
          feeds: { x: createMatmulInput(1, 4, seed) },
          timeoutMs: 30_000,
          backend: 'cpu',
        });
      const seeds = Array.from({ length: 8 }, (_, i) => i + 1);
      await Promise.all(seeds.map((s) => run(short, s)));
      await Promise.all(seeds.map((s) => run(long, s)));
      expect(short.prefetch).toBe(2 * 31); // runs of microseconds: batches of maxBatch (32)
      expect(long.prefetch).toBe(2);
      // Another model asked for: one waiting per runner until its own runs are timed.
      const other = short.run({
        modelHash: modelHash(model),
        model,
        feeds: { x: createMatmulInput(1, 16, 1) },
        timeoutMs: 30_000,
        backend: 'cpu',
      });
      expect(short.prefetch).toBe(2);
      await other;
    } finally {
      await Promise.all([short.close(), long.close()]);
    }
  });

  it('tops a runner up while a run still waits in it, so it never idles for a round trip', async () => {
    // batchMs 0: batches of 2. The second run is long; when the first one's reply
    // comes, the third must cross at once, not after the long one ends.
    const slow = createMatmulModel({ size: 256, layers: 64 });
    const ex = createNodeExecutor({ backend: 'cpu', concurrency: 1, batchMs: 0 });
    try {
      await ex.run(req(1)); // the runner is up and holds the small model
      const before = ex.ipcStats().messagesToRunners;
      let postedWhenFirstDone = -1;
      const first = ex.run(req(2)).then(() => {
        postedWhenFirstDone = ex.ipcStats().messagesToRunners - before;
      });
      const second = ex.run(req(3, 30_000, slow));
      const third = ex.run(req(4));
      await Promise.all([first, second, third]);
      expect(postedWhenFirstDone).toBe(2); // [first, second], then [third] at the first's reply
    } finally {
      await ex.close();
    }
  });

  it('loses no reply when a runner sends what it finished while a longer run goes on', async () => {
    // Runs of ~5 ms among short ones: the runner's 2 ms flush fires in the middle of runs.
    const medium = createMatmulModel({ size: 256, layers: 32 });
    const ex = createNodeExecutor({ backend: 'cpu', concurrency: 1, maxBatch: 8 });
    try {
      const runs = Array.from({ length: 60 }, (_, i) =>
        i % 3 === 0
          ? ex.run({
              modelHash: modelHash(medium),
              model: medium,
              feeds: { x: createMatmulInput(8, 256, i) },
              timeoutMs: 20_000,
              backend: 'cpu',
            })
          : ex.run(req(i, 20_000)),
      );
      const done = await Promise.all(runs);
      expect(done).toHaveLength(60);
      // (A reply pushed onto the outbox a flush had just sent would never arrive: this hung.)
    } finally {
      await ex.close();
    }
  });

  it('a run past its timeout fails alone: the runs batched before and after it succeed', async () => {
    const ex = createNodeExecutor({ backend: 'cpu', concurrency: 1, maxBatch: 8 });
    const slow = createMatmulModel({ size: 256, layers: 100 });
    try {
      await ex.run(req(1)); // the runner is up and holds the small model
      const runaway = {
        modelHash: modelHash(slow),
        model: slow,
        feeds: { x: createMatmulInput(16_384, 256, 2) }, // seconds of work
        timeoutMs: 300,
        backend: 'cpu' as const,
      };
      const outcome = (p: Promise<unknown>) =>
        p.then(
          () => 'ok',
          (e: unknown) => (e as PeerGridError).code,
        );
      const runs = [
        ex.run(req(2)),
        ex.run(req(3)),
        ex.run(runaway),
        ex.run(req(4)),
        ex.run(req(5)),
      ];
      expect(await Promise.all(runs.map(outcome))).toEqual(['ok', 'ok', 'timeout', 'ok', 'ok']);
    } finally {
      await ex.close();
    }
  });
});

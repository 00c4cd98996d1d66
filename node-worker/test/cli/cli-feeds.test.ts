/**
 * Named feeds end to end on a loopback grid (signaling in this process, two
 * `peergrid-worker` children) with the three-input fixture model: the
 * `peergrid` CLI over a folder of .npz and named-JSON tasks, and over
 * `--input`/`--const` flags. Outputs equal a local onnxruntime-node run.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  encodeNpy,
  encodeNpz,
  type JobSpec,
  type Tensor,
  type TensorMap,
  tensorFrom,
  tensorValues,
} from '@peergrid/shared';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModelJob, modelJobOptions } from '../../src/cli/build-job.ts';
import { parseRunArgs } from '../../src/cli/run-args.ts';
import { feedsModel } from '../fixtures/feeds-model.ts';
import { cli, readResultsFile, summaryOf } from '../integration/cli-harness.ts';
import { startTestGrid, type TestGrid } from '../integration/grid-harness.ts';

const i64 = (dims: number[], values: number[]) =>
  tensorFrom(
    'int64',
    dims,
    BigInt64Array.from(values, (v) => BigInt(v)),
  );

/** Each task's outputs from onnxruntime-node in this process, blob feeds resolved. */
async function localRun(spec: JobSpec, model: Uint8Array): Promise<Map<string, TensorMap>> {
  const session = await ort.InferenceSession.create(model);
  const out = new Map<string, TensorMap>();
  for (const task of spec.tasks) {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, f] of Object.entries(task.feeds)) {
      if ('fromTask' in f) throw new Error('no task graph here');
      const t: Tensor = 'tensor' in f ? f.tensor : spec.blobs![f.blob]!;
      feeds[name] = new ort.Tensor(t.dtype, tensorValues(t) as BigInt64Array, [...t.dims]);
    }
    const r = await session.run(feeds);
    const masked = r.masked!;
    out.set(task.id, {
      masked: tensorFrom('float32', [...masked.dims], masked.data as Float32Array),
    });
  }
  await session.release();
  return out;
}

describe('named feeds on a grid', () => {
  let grid: TestGrid;
  let dir: string;
  let modelPath: string;
  const model = feedsModel();

  beforeAll(async () => {
    grid = await startTestGrid([{}, {}]);
    dir = await mkdtemp(join(tmpdir(), 'pg-cli-feeds-'));
    modelPath = join(dir, 'feeds.onnx');
    await writeFile(modelPath, model);
  }, 90_000);
  afterAll(async () => {
    await grid?.close();
    await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it('the CLI runs a folder of .npz and named-JSON tasks to the local result', async () => {
    const tasks = join(dir, 'tasks');
    await mkdir(tasks);
    await writeFile(
      join(tasks, 'a.npz'),
      encodeNpz(
        {
          input_ids: i64([2, 3], [101, 7592, 102, 101, 2088, 102]),
          attention_mask: i64([2, 3], [1, 1, 1, 1, 1, 0]),
          offset: i64([], [-100]),
        },
        { compress: true },
      ),
    );
    await writeFile(
      join(tasks, 'b.json'),
      JSON.stringify({
        input_ids: { dtype: 'int64', data: [[5, 6, 7, 8]] },
        attention_mask: { dtype: 'int64', data: [[1, 0, 1, 0]] },
        offset: { dtype: 'int64', data: 1 },
      }),
    );
    const out = join(dir, 'out.json');
    const run = cli(
      [
        'run',
        '--signal',
        grid.signalUrl,
        '--grid',
        grid.grid,
        '--model',
        modelPath,
        '--inputs',
        tasks,
        '--state',
        join(dir, 'state'),
        '--out',
        out,
      ],
      dir,
    );
    expect(await run.exit, run.stderr()).toBe(0);
    expect(summaryOf(run.stderr())?.state).toBe('completed');
    const got = readResultsFile(out);
    const spec = await buildModelJob({ model: modelPath, inputs: tasks, policy: {} });
    const want = await localRun(spec, model);
    expect([...got.keys()].sort()).toEqual(['a.npz', 'b.json']);
    expect(got).toEqual(want);
    expect([...(tensorValues(got.get('b.json')!.masked!) as Float32Array)]).toEqual([6, 0, 8, 0]);
  }, 120_000);

  it('runs a job from --input and --const flags, the constant sent as a blob feed', async () => {
    await writeFile(join(dir, 'ids.npy'), encodeNpy(i64([5, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])));
    await writeFile(
      join(dir, 'mask.json'),
      JSON.stringify({
        dtype: 'int64',
        data: [
          [1, 0],
          [0, 1],
          [1, 1],
          [0, 0],
          [1, 0],
        ],
      }),
    );
    const flags = [
      '--model',
      modelPath,
      '--input',
      `input_ids=${join(dir, 'ids.npy')}`,
      '--input',
      `attention_mask=${join(dir, 'mask.json')}`,
      '--batch',
      '2',
      '--const',
      'offset=10',
    ];
    const parsed = parseRunArgs(['--signal', grid.signalUrl, ...flags]);
    if (parsed.kind !== 'ok') throw new Error(parsed.kind);
    const spec = await buildModelJob(modelJobOptions(parsed.options));
    expect(spec.tasks.map((t) => t.id)).toEqual(['rows-0', 'rows-2', 'rows-4']);
    expect(Object.keys(spec.blobs ?? {})).toHaveLength(1);
    // The real CLI, with the same flags: its own executor anchors the job.
    const out = join(dir, 'out-flags.json');
    const run = cli(
      [
        'run',
        '--signal',
        grid.signalUrl,
        '--grid',
        grid.grid,
        ...flags,
        '--state',
        join(dir, 'state-flags'),
        '--out',
        out,
      ],
      dir,
    );
    expect(await run.exit, run.stderr()).toBe(0);
    const summary = summaryOf(run.stderr());
    expect(summary?.state).toBe('completed');
    const got = readResultsFile(out);
    const want = await localRun(spec, model);
    expect(got).toEqual(want);
    expect([...(tensorValues(got.get('rows-2')!.masked!) as Float32Array)]).toEqual([15, 16, 0, 0]);
  }, 120_000);
});

/**
 * `peergrid run --model`'s job from files: the three input forms, constants
 * stored once as blobs, and every misfit with the model listed before
 * anything is sent. The model is the three-input fixture (dynamic `batch`,
 * an unnamed dynamic dim, an int64 scalar).
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  encodeNpy,
  encodeNpz,
  type FeedSpec,
  type JobSpec,
  type Tensor,
  tensorFrom,
  tensorValues,
  validateJob,
  verifyJobHashes,
} from '@peergrid/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModelJob, type ModelJobOptions } from '../../src/cli/build-job.ts';
import { parseConstFlag } from '../../src/inputs/const-feed.ts';
import { declaredInputs } from '../../src/inputs/model-inputs.ts';
import { MNIST_FIXTURES } from '../../src/workloads/index.ts';
import { feedsModel } from '../fixtures/feeds-model.ts';

const i64 = (dims: number[], values: number[]) =>
  tensorFrom(
    'int64',
    dims,
    BigInt64Array.from(values, (v) => BigInt(v)),
  );
const ids = i64([4, 3], [101, 7, 102, 101, 8, 102, 101, 9, 102, 101, 10, 102]);
const mask = i64([4, 3], [1, 1, 1, 1, 1, 0, 1, 0, 0, 1, 1, 1]);
const offset = i64([], [2]);
const sha256 = async (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let dir: string;
let model: string;
const at = (...p: string[]) => join(dir, ...p);
const job = (o: Omit<ModelJobOptions, 'model' | 'policy'>) =>
  buildModelJob({ model, policy: {}, ...o });
const consts = (...raw: string[]) =>
  raw.map((r) => {
    const c = parseConstFlag(r);
    if (typeof c === 'string') throw new Error(c);
    return c;
  });
/** A task feed's tensor, the job's blob for a blob feed. */
const feed = (spec: JobSpec, task: number, name: string): Tensor => {
  const f: FeedSpec | undefined = spec.tasks[task]?.feeds[name];
  if (!f || 'fromTask' in f) throw new Error(`no feed ${name}`);
  return 'tensor' in f ? f.tensor : spec.blobs![f.blob]!;
};
const numbers = (t: Tensor) => Array.from(tensorValues(t) as ArrayLike<number | bigint>, Number);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pg-model-job-'));
  model = at('feeds.onnx');
  await writeFile(model, feedsModel());
  await writeFile(at('ids.npy'), encodeNpy(ids));
  await writeFile(at('mask.npy'), encodeNpy(mask));
  await writeFile(at('all.npz'), encodeNpz({ input_ids: ids, attention_mask: mask }));
  await mkdir(at('tasks'));
  await writeFile(
    at('tasks', 'a.npz'),
    encodeNpz({ input_ids: ids, attention_mask: mask, offset }),
  );
  await writeFile(
    at('tasks', 'b.json'),
    JSON.stringify({
      input_ids: { dtype: 'int64', data: [[1, 2]] },
      attention_mask: { dtype: 'int64', data: [[1, 0]] },
      offset: { dtype: 'int64', dims: [], data: [5] },
    }),
  );
  await writeFile(at('tasks', 'notes.txt'), 'not an input');
  for (const [sub, t] of [
    ['id-dir', ids],
    ['mask-dir', mask],
  ] as const) {
    await mkdir(at(sub));
    await writeFile(at(sub, 'x.npy'), encodeNpy(t));
    await writeFile(
      at(sub, 'y.json'),
      JSON.stringify({ dtype: 'int64', dims: [1, 3], data: [1, 1, 0] }),
    );
  }
  await mkdir(at('short-mask-dir'));
  await writeFile(at('short-mask-dir', 'x.npy'), encodeNpy(mask));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('declared inputs from the ModelProto', () => {
  it('reads dtypes, symbolic and unnamed dims, and scalars', async () => {
    expect(declaredInputs(feedsModel())).toEqual([
      { name: 'input_ids', dtype: 'int64', shape: ['batch', 'seq'] },
      { name: 'attention_mask', dtype: 'int64', shape: ['batch', null] },
      { name: 'offset', dtype: 'int64', shape: [] },
    ]);
    expect(() => declaredInputs(new TextEncoder().encode('not a model'))).toThrow();
  });
});

describe('model jobs from files', () => {
  it('--inputs FOLDER: one task per .npz or named JSON file', async () => {
    const spec = await job({ inputs: at('tasks') });
    expect(spec.tasks.map((t) => t.id)).toEqual(['a.npz', 'b.json']);
    expect(numbers(feed(spec, 1, 'input_ids'))).toEqual([1, 2]);
    expect(numbers(feed(spec, 1, 'offset'))).toEqual([5]);
    expect(feed(spec, 0, 'attention_mask')).toEqual(mask);
    expect(spec.blobs).toBeUndefined();
    expect(validateJob(spec)).toEqual([]);
  });

  it('--inputs FILE.npz --batch: rows split together, a --const stored once as a blob', async () => {
    const spec = await job({ inputs: at('all.npz'), batch: 3, consts: consts('offset=2:int64') });
    expect(spec.tasks.map((t) => t.id)).toEqual(['rows-0', 'rows-3']);
    expect(numbers(feed(spec, 1, 'input_ids'))).toEqual([101, 10, 102]);
    expect(numbers(feed(spec, 1, 'attention_mask'))).toEqual([1, 1, 1]);
    const blobFeeds = spec.tasks.map((t) => t.feeds.offset);
    expect(new Set(blobFeeds.map((f) => JSON.stringify(f))).size).toBe(1);
    expect(blobFeeds[0]).toHaveProperty('blob');
    expect(Object.values(spec.blobs ?? {})).toEqual([offset]);
    expect(validateJob(spec)).toEqual([]);
    expect(await verifyJobHashes(spec, sha256)).toEqual([]);
  });

  it("--input NAME=FILE: tensor files split by rows together; a --const takes the model's dtype", async () => {
    const spec = await job({
      namedInputs: [
        { name: 'input_ids', path: at('ids.npy') },
        { name: 'attention_mask', path: at('mask.npy') },
      ],
      batch: 2,
      consts: consts('offset=7'),
    });
    expect(spec.tasks.map((t) => t.id)).toEqual(['rows-0', 'rows-2']);
    expect(numbers(feed(spec, 0, 'attention_mask'))).toEqual([1, 1, 1, 1, 1, 0]);
    expect(feed(spec, 0, 'offset')).toEqual(i64([], [7]));
  });

  it('--input NAME=FOLDER: files matched by stem, one task each', async () => {
    const spec = await job({
      namedInputs: [
        { name: 'input_ids', path: at('id-dir') },
        { name: 'attention_mask', path: at('mask-dir') },
      ],
      consts: consts(`offset=@${at('tasks', 'b.json')}`),
    }).catch((e: Error) => e.message);
    // b.json holds tensors by name: a --const file must hold one tensor.
    expect(spec).toMatch(
      /b\.json: holds tensors by name \(input_ids, attention_mask, offset\), not one tensor/,
    );
    await writeFile(at('offset.npy'), encodeNpy(offset));
    const ok = await job({
      namedInputs: [
        { name: 'input_ids', path: at('id-dir') },
        { name: 'attention_mask', path: at('mask-dir') },
      ],
      consts: consts(`offset=@${at('offset.npy')}`),
    });
    expect(ok.tasks.map((t) => t.id)).toEqual(['x', 'y']);
    expect(feed(ok, 0, 'input_ids')).toEqual(ids);
    expect(feed(ok, 1, 'attention_mask')).toEqual(i64([1, 3], [1, 1, 0]));
  });

  it('names the stem a folder lacks, and refuses mixing folders with files', async () => {
    const missing = job({
      namedInputs: [
        { name: 'input_ids', path: at('id-dir') },
        { name: 'attention_mask', path: at('short-mask-dir') },
      ],
    });
    await expect(missing).rejects.toThrow(/"y" has no file for attention_mask in .*short-mask-dir/);
    const mixed = job({
      namedInputs: [
        { name: 'input_ids', path: at('id-dir') },
        { name: 'attention_mask', path: at('mask.npy') },
      ],
    });
    await expect(mixed).rejects.toThrow(/attention_mask is a file .*--const NAME=@FILE/);
    const batched = job({
      namedInputs: [
        { name: 'input_ids', path: at('id-dir') },
        { name: 'attention_mask', path: at('mask-dir') },
      ],
      batch: 2,
    });
    await expect(batched).rejects.toThrow(/--batch splits tensor files/);
  });

  it('lists every misfit with the model before anything is sent', async () => {
    await writeFile(
      at('wrong.npz'),
      encodeNpz({
        input_ids: tensorFrom('int32', [2, 3], new Int32Array(6)),
        attention_mask: i64([3, 3], new Array(9).fill(1)),
        extra: i64([1], [1]),
      }),
    );
    const message = await job({ inputs: at('wrong.npz') }).catch((e: Error) => e.message);
    expect(message).toBe(
      [
        `the inputs do not fit ${model}:`,
        'task all: input "input_ids" must be int64, got int32; dim "batch" is 2 in "input_ids" but 3 in "attention_mask"; model input "offset" is missing (given: input_ids, attention_mask, extra); the model has no input named "extra" (its inputs: input_ids, attention_mask, offset)',
        "the model's inputs: input_ids int64 [batch, seq], attention_mask int64 [batch, ?], offset int64 []",
      ].join('\n'),
    );
    await writeFile(
      at('rows.npz'),
      encodeNpz({ input_ids: ids, attention_mask: i64([3, 3], new Array(9).fill(1)) }),
    );
    await expect(job({ inputs: at('rows.npz'), consts: consts('offset=1') })).rejects.toThrow(
      /dim "batch" is 4 in "input_ids" but 3 in "attention_mask"/,
    );
    await expect(job({ inputs: at('rows.npz'), batch: 2 })).rejects.toThrow(
      /same row count; got input_ids 4, attention_mask 3/,
    );
    await expect(job({ inputs: at('tasks', 'a.npz'), batch: 2 })).rejects.toThrow(
      /"offset" is a scalar: no rows to split/,
    );
    await expect(job({ inputs: at('tasks', 'a.npz'), consts: consts('offset=1') })).rejects.toThrow(
      /offset: given per task and as --const/,
    );
    await expect(
      job({ inputs: at('tasks', 'a.npz'), consts: consts('offset=1.5') }),
    ).rejects.toThrow(/--const offset: int64 values must be integers/);
    await expect(
      buildModelJob({ model: at('ids.npy'), inputs: at('ids.npy'), policy: {} }),
    ).rejects.toThrow(/not an ONNX model/);
  });

  it("keeps the single-input form: a bare tensor feeds the model's first input", async () => {
    const spec = await buildModelJob({
      model: MNIST_FIXTURES.model,
      inputs: MNIST_FIXTURES.pixels,
      batch: 250,
      policy: {},
    });
    expect(spec.tasks.map((t) => t.id)).toEqual(['rows-0', 'rows-250', 'rows-500', 'rows-750']);
    expect(feed(spec, 3, 'pixels').dims).toEqual([250, 784]);
    // A bare tensor for a model with more inputs goes to the first one no constant covers.
    const named = await job({
      inputs: at('mask.npy'),
      consts: consts(`input_ids=@${at('ids.npy')}`, 'offset=0'),
    });
    expect(Object.keys(named.tasks[0]!.feeds).sort()).toEqual([
      'attention_mask',
      'input_ids',
      'offset',
    ]);
  });
});

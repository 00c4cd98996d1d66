/**
 * The Submit view's inputs for a model with several inputs: .npz archives
 * and JSON objects keyed by input name, checked with the shared feed check
 * against what onnxruntime-web (WASM, here in Node) reports for a real
 * three-input model with unnamed dynamic dims and an int64 scalar.
 */
import { encodeNpz, tensorFrom, tensorValues } from '@peergrid/shared';
import { describe, expect, it } from 'vitest';
import { feedsModel } from '../../node-worker/test/fixtures/feeds-model.ts';
import { createOrtHost } from '../src/exec/ort-host.ts';
import { feedsPerFile, imageTarget, parseInputFile } from '../src/lib/custom-job.ts';
import { checkFeeds, type InputSpec } from '../src/lib/feed-check.ts';

const i64 = (dims: number[], values: number[]) =>
  tensorFrom(
    'int64',
    dims,
    BigInt64Array.from(values, (v) => BigInt(v)),
  );
const json = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
const parse = (file: string, bytes: Uint8Array) => {
  const r = parseInputFile(file, bytes, 'input_ids');
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe('named feeds in the Submit view', () => {
  it('takes .npz and JSON objects for a real three-input model, and runs them', {
    timeout: 60_000,
  }, async () => {
    const host = createOrtHost();
    await host.init({ wasmPaths: '', threads: 1, gpu: false });
    const model = feedsModel();
    const info = await host.inspect(model);
    if (!info.ok) throw new Error(info.error.message);
    // What the page gets: an unnamed dynamic dim as 4294967295, a scalar as [].
    expect(info.value.inputs).toEqual([
      { name: 'input_ids', type: 'int64', shape: ['batch', 'seq'] },
      { name: 'attention_mask', type: 'int64', shape: ['batch', 4294967295] },
      { name: 'offset', type: 'int64', shape: [] },
    ]);
    const npz = parse(
      'a.npz',
      encodeNpz({
        input_ids: i64([1, 512], new Array(512).fill(3)),
        attention_mask: i64([1, 512], new Array(512).fill(1)),
        offset: i64([], [1]),
      }),
    );
    const obj = parse(
      'b.json',
      json({
        input_ids: { dtype: 'int64', data: [[1, 2, 3]] },
        attention_mask: { dtype: 'int64', data: [[1, 0, 1]] },
        offset: { dtype: 'int64', dims: [], data: [10] },
      }),
    );
    const feeds = feedsPerFile(info.value.inputs, [npz, obj]);
    if (!feeds.ok) throw new Error(feeds.error);
    const run = await host.run({ modelHash: 'feeds', model, feeds: feeds.value[1]! });
    if (!run.ok) throw new Error(run.error.message);
    expect([...(tensorValues(run.value.outputs.masked!) as Float32Array)]).toEqual([11, 0, 13]);
    const big = await host.run({ modelHash: 'feeds', feeds: feeds.value[0]! });
    expect(big.ok && big.value.outputs.masked?.dims).toEqual([1, 512]);

    // The check on the donor side too: a batch that differs between inputs is named.
    const misfit = await host.run({
      modelHash: 'feeds',
      feeds: { ...feeds.value[1]!, attention_mask: i64([2, 3], [1, 1, 1, 1, 1, 1]) },
    });
    expect(misfit.ok ? '' : misfit.error.message).toBe(
      'dim "batch" is 1 in "input_ids" but 2 in "attention_mask"',
    );
  });

  it('lists every file that does not fit, and what is wrong with each', () => {
    const inputs: InputSpec[] = [
      { name: 'input_ids', type: 'int64', shape: ['batch', 4294967295] },
      { name: 'attention_mask', type: 'int64', shape: ['batch', 4294967295] },
    ];
    const files = [
      parse(
        'ok.npz',
        encodeNpz({ input_ids: i64([1, 2], [1, 2]), attention_mask: i64([1, 2], [1, 1]) }),
      ),
      parse(
        'float.json',
        json({ input_ids: [[1, 2]], attention_mask: { dtype: 'int64', data: [[1, 1]] } }),
      ),
      parse('short.npz', encodeNpz({ input_ids: i64([1, 2], [1, 2]) })),
    ];
    const r = feedsPerFile(inputs, files);
    expect(r.ok ? '' : r.error).toBe(
      [
        'file float.json: input "input_ids" must be int64, got float32',
        'file short.npz: model input "attention_mask" is missing (given: input_ids)',
      ].join('\n'),
    );
    const bare = feedsPerFile(inputs, [parse('x.json', json([[1, 2]]))]);
    expect(bare.ok ? '' : bare.error).toMatch(
      /2 inputs \(input_ids, attention_mask\); give them as an \.npz or a JSON object/,
    );
    const bad = parseInputFile('bad.npz', new Uint8Array([1, 2, 3]), 'x');
    expect(bad.ok ? '' : bad.error).toBe('bad.npz: not an .npz file (not a zip archive)');
  });

  it("accepts onnxruntime-web's unnamed dynamic dims (the [4294967295, 4294967295] bug)", () => {
    const inputs: InputSpec[] = [
      { name: 'input', type: 'float32', shape: [4294967295, 4294967295] },
      { name: 'len', type: 'int64', shape: [] },
    ];
    const feeds = {
      input: tensorFrom('float32', [1, 512], new Float32Array(512)),
      len: i64([], [512]),
    };
    expect(checkFeeds(inputs, feeds)).toBeNull();
    expect(
      imageTarget({ name: 'i', type: 'float32', shape: [4294967295, 3, 4294967295, 4294967295] }),
    ).toEqual({
      channels: 3,
    });
  });
});

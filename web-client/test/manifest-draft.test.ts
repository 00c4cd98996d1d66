/**
 * The Submit view's manifest path: uploaded files found by the manifest's
 * paths, models described from ORT's metadata, the shared loader's refusals
 * passed on with their codes, and the .npz download built from the job
 * store a page at a time.
 */
import {
  createMemoryJobStore,
  decodeNpz,
  encodeNpy,
  tensorFrom,
  tensorValues,
} from '@peergrid/shared';
import { describe, expect, it } from 'vitest';
import type { ModelInfo } from '../src/exec/worker-protocol.ts';
import {
  findUpload,
  ManifestRefused,
  manifestDraft,
  modelDescription,
  type UploadedFile,
} from '../src/lib/manifest-draft.ts';
import { resultsNpzBlob } from '../src/lib/results-npz.ts';

const file = (name: string, bytes: Uint8Array | string, relative?: string): UploadedFile => {
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  return {
    name,
    size: data.byteLength,
    ...(relative ? { webkitRelativePath: relative } : {}),
    arrayBuffer: async () => data.slice().buffer as ArrayBuffer,
  };
};

/** One model with input x float32 [?, 2] (as ORT web writes a dynamic dim) and output y. */
const INFO: ModelInfo = {
  inputs: [{ name: 'x', type: 'float32', shape: [4294967295, 2] }],
  outputs: ['y'],
  outputSpecs: [{ name: 'y', type: 'float32', shape: ['rows', 3] }],
};
const inspect = async () => INFO;
const X = encodeNpy(tensorFrom('float32', [4, 2], Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8])));

describe('manifest uploads', () => {
  it('finds files by their path in a chosen folder, else by a unique name', () => {
    const files = [
      file('x.npy', X, 'job/data/x.npy'),
      file('m.onnx', 'm'),
      file('dup.npy', X, 'job/a/dup.npy'),
      file('dup.npy', X, 'job/b/dup.npy'),
    ];
    expect(findUpload(files, 'data/x.npy')?.webkitRelativePath).toBe('job/data/x.npy');
    expect(findUpload(files, './models/m.onnx')?.name).toBe('m.onnx');
    expect(findUpload(files, 'b/dup.npy')?.webkitRelativePath).toBe('job/b/dup.npy');
    expect(findUpload(files, 'dup.npy')).toBeNull(); // two files of that name: ambiguous
    expect(findUpload(files, 'gone.npy')).toBeNull();
  });

  it("describes a model's outputs from ORT's metadata, or leaves their type open", () => {
    const d = modelDescription(INFO);
    expect(d.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: [null, 2] }]);
    expect(d.outputs).toEqual([{ name: 'y', dtype: 'float32', shape: ['rows', 3] }]);
    const { outputSpecs: _, ...old } = INFO;
    expect(modelDescription(old).outputs).toEqual([{ name: 'y', dtype: '', shape: null }]);
  });

  it('builds the job from a manifest and its files', async () => {
    const manifest = JSON.stringify({
      name: 'demo',
      models: { m: 'm.onnx' },
      tasks: [
        { id: 'a', model: 'm', forEach: { rows: 2 }, feeds: { x: { file: 'x.npy', split: true } } },
      ],
    });
    const draft = await manifestDraft(inspect, file('job.json', manifest), [
      file('m.onnx', 'model bytes'),
      file('x.npy', X),
    ]);
    expect(draft.kind).toBe('manifest');
    expect(draft.name).toBe('demo · 2 tasks');
    expect(draft.spec.groups?.[0]?.count).toBe(2);
  });

  it('refuses with every problem and its code, before anything is stored', async () => {
    const manifest = JSON.stringify({
      models: { m: 'm.onnx' },
      tasks: [
        { id: 'a', model: 'm', feeds: { x: { file: 'x.npy' } } },
        { id: 'b', model: 'm', feeds: { x: { from: 'a', output: 'logits' } } },
      ],
    });
    const err = await manifestDraft(inspect, file('job.json', manifest), [
      file('m.onnx', 'm'),
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManifestRefused);
    expect((err as ManifestRefused).problems.map((p) => p.code)).toEqual(['missing-file']);
    expect((err as Error).message).toMatch(/job\.json is refused:\n\s+task a: no file x\.npy/);
  });

  it("refuses a model over the donors' model limit before reading it", async () => {
    const big: UploadedFile = { ...file('m.onnx', 'm'), size: 65 * 1024 * 1024 };
    const manifest = JSON.stringify({
      models: { m: 'm.onnx' },
      tasks: [{ id: 'a', model: 'm', feeds: { x: { file: 'x.npy' } } }],
    });
    await expect(
      manifestDraft(inspect, file('job.json', manifest), [big, file('x.npy', X)]),
    ).rejects.toThrow(/m\.onnx \(65(\.0)? MiB\) is over the 64(\.0)? MiB limit for models/);
  });
});

describe('the .npz download', () => {
  it('holds every stored result as TASK/OUTPUT entries', async () => {
    const store = createMemoryJobStore();
    const result = (taskId: string, v: number) => ({
      jobId: 'j',
      taskId,
      outputs: { y: tensorFrom('float32', [1], Float32Array.from([v])) },
      backers: ['d'],
      bound: 0,
      backend: 'wasm' as const,
      acceptedAt: 0,
    });
    await store.commit('j', {
      job: { jobId: 'j', state: 'running', seq: 0, updatedAt: 0 },
      tasks: [],
      results: [result('a-0', 1), result('a-1', 2)],
      removedResults: [],
      events: [],
    });
    const { blob, tasks } = await resultsNpzBlob(store, 'j');
    expect(tasks).toBe(2);
    const r = decodeNpz(new Uint8Array(await blob.arrayBuffer()));
    if (!r.ok) throw new Error(r.error);
    expect(Object.keys(r.tensors).sort()).toEqual(['a-0/y', 'a-1/y']);
    expect(Array.from(tensorValues(r.tensors['a-1/y']!) as Float32Array)).toEqual([2]);
  });
});

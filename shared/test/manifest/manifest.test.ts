/**
 * The manifest loader against an in-memory file set: how a manifest maps onto
 * the engine's graph (tasks, groups, fromTask feeds) and every refusal it
 * makes before a job exists.
 */
import { describe, expect, it } from 'vitest';
import type { DeclaredInput } from '../../src/feeds/declared-input.ts';
import { encodeNpy } from '../../src/io/npy.ts';
import { encodeNpz } from '../../src/io/npz.ts';
import { validateJob } from '../../src/job/spec.ts';
import { allTasks } from '../../src/job/task-source.ts';
import { utf8 } from '../../src/job/utf8.ts';
import {
  loadManifestJob,
  type ManifestEnv,
  type ModelDescription,
} from '../../src/manifest/build-manifest-job.ts';
import type { ManifestProblemCode } from '../../src/manifest/manifest-problems.ts';
import { type DType, type Tensor, tensorFrom, tensorValues } from '../../src/tensor.ts';

const v = (name: string, dtype: string, shape: DeclaredInput['shape']): DeclaredInput => ({
  name,
  dtype,
  shape,
});

/** Models are their own names as bytes; the env describes them from this table. */
const MODELS: Record<string, ModelDescription> = {
  'enc.onnx': {
    inputs: [
      v('input_ids', 'int64', ['batch', 'seq']),
      v('attention_mask', 'int64', ['batch', 'seq']),
    ],
    outputs: [v('pooled', 'float32', ['batch', 4])],
  },
  'a.onnx': { inputs: [v('x', 'float32', [null, 2])], outputs: [v('h', 'float32', [null, 3])] },
  'b.onnx': { inputs: [v('h', 'float32', [null, 3])], outputs: [v('y', 'float32', [null, 1])] },
  'c.onnx': {
    inputs: [0, 1, 2, 3].map((i) => v(`part${i}`, 'float32', [null, 1])),
    outputs: [v('total', 'float32', [1])],
  },
  'scaled.onnx': {
    inputs: [v('x', 'float32', [null, 2]), v('scale', 'float32', [])],
    outputs: [v('h', 'float32', [null, 3])],
  },
  'ints.onnx': { inputs: [v('h', 'int64', [null, 3])], outputs: [v('y', 'int64', [null])] },
  'wide.onnx': { inputs: [v('h', 'float32', [null, 5])], outputs: [v('y', 'float32', [null])] },
};

const int64 = (dims: number[], values: number[]) =>
  tensorFrom('int64', dims, BigInt64Array.from(values, BigInt));
const f32 = (dims: number[], values: number[]) =>
  tensorFrom('float32', dims, Float32Array.from(values));

function env(files: Record<string, Uint8Array>): ManifestEnv {
  const all: Record<string, Uint8Array> = { ...files };
  for (const name of Object.keys(MODELS)) all[name] = utf8(name);
  all['broken.onnx'] = utf8('not a model');
  return {
    read: async (p) => all[p] ?? null,
    describeModel: (bytes) => {
      const d = MODELS[String.fromCharCode(...bytes)];
      if (!d) throw new Error('no graph');
      return d;
    },
    // A stand-in digest: distinct bytes, distinct names (the loader only needs that).
    sha256: async (bytes) => {
      let h = 2166136261;
      for (const b of bytes) h = Math.imul(h ^ b, 16777619) >>> 0;
      return `${h.toString(16).padStart(8, '0')}${bytes.byteLength.toString(16)}`.padEnd(64, '0');
    },
  };
}

const X = f32([4, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
const FILES = {
  'inputs.npz': encodeNpz({
    input_ids: int64([6, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
    attention_mask: int64([6, 3], [1, 1, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 1, 0, 0]),
  }),
  'x.npy': encodeNpy(X),
  'x.json': utf8(JSON.stringify([[1, 2]])),
};

/** The three-stage graph: a fans out over x's rows, b over a's tasks, c gathers b's. */
const threeStage = (patch: (m: ThreeStage) => void = () => {}) => {
  const m: ThreeStage = {
    name: 'three',
    models: { a: 'a.onnx', b: 'b.onnx', c: 'c.onnx' },
    tasks: [
      { id: 'a', model: 'a', forEach: { rows: 1 }, feeds: { x: { file: 'x.npy', split: true } } },
      { id: 'b', model: 'b', forEach: {}, feeds: { h: { from: 'a', output: 'h' } } },
      { id: 'c', model: 'c', feeds: { 'part{i}': { from: 'b', output: 'y' } } },
    ],
    policy: { replicas: 2, compare: 'tolerance:1e-5' },
  };
  patch(m);
  return m;
};
type ThreeStage = {
  name: string;
  models: Record<string, string>;
  tasks: Record<string, unknown>[];
  policy: Record<string, unknown>;
};

async function refused(manifest: unknown, files = FILES): Promise<ManifestProblemCode[]> {
  const r = await loadManifestJob(manifest, env(files));
  if (r.ok) throw new Error('expected a refusal');
  return r.problems.map((p) => p.code);
}

describe('loadManifestJob', () => {
  it('maps a fan-out over two split inputs onto one task group of row blocks', async () => {
    const r = await loadManifestJob(
      JSON.stringify({
        models: { enc: 'enc.onnx' },
        tasks: [
          {
            id: 'embed',
            model: 'enc',
            forEach: { rows: 2 },
            feeds: {
              input_ids: { file: 'inputs.npz', split: true },
              attention_mask: { file: 'inputs.npz', split: true },
            },
          },
        ],
      }),
      env(FILES),
    );
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.spec.tasks).toEqual([]);
    const [g] = r.spec.groups ?? [];
    expect(g?.idPrefix).toBe('embed-');
    expect(g?.count).toBe(3);
    expect(r.stages).toEqual([{ id: 'embed', count: 3, fanOut: true }]);
    expect(validateJob(r.spec)).toEqual([]);
    const tasks = allTasks(r.spec);
    expect(tasks.map((t) => t.id)).toEqual(['embed-0', 'embed-1', 'embed-2']);
    // Row 1 of task 1 is row 3 of the file, in both inputs.
    const feed = tasks[1]!.feeds.attention_mask!;
    const t = 'tensor' in feed ? feed.tensor : undefined;
    expect(t?.dims).toEqual([2, 3]);
    expect(Array.from(tensorValues(t as Tensor) as BigInt64Array, Number)).toEqual([
      1, 0, 0, 1, 1, 1,
    ]);
  });

  it('maps a three-stage graph: fan-out, fan-out over outputs, fan-in', async () => {
    const r = await loadManifestJob(threeStage(), env(FILES));
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(validateJob(r.spec)).toEqual([]);
    expect(r.spec.groups?.map((g) => [g.idPrefix, g.count])).toEqual([['a-', 4]]);
    const ids = r.spec.tasks.map((t) => t.id);
    expect(ids).toEqual(['b-0', 'b-1', 'b-2', 'b-3', 'c']);
    expect(r.spec.tasks[2]?.feeds.h).toEqual({ fromTask: 'a-2', output: 'h' });
    expect(r.spec.tasks[4]?.feeds).toEqual({
      part0: { fromTask: 'b-0', output: 'y' },
      part1: { fromTask: 'b-1', output: 'y' },
      part2: { fromTask: 'b-2', output: 'y' },
      part3: { fromTask: 'b-3', output: 'y' },
    });
    expect(r.spec.policy).toEqual({
      replicas: 2,
      compare: { kind: 'tolerance', abs: 1e-5, rel: 1e-5 },
    });
  });

  it('takes constants (dtype from the model), shared files and one named fan-out task', async () => {
    const r = await loadManifestJob(
      {
        models: { s: 'scaled.onnx', b: 'b.onnx' },
        tasks: [
          {
            id: 'a',
            model: 's',
            forEach: { rows: 2 },
            feeds: { x: { file: 'x.npy', split: true }, scale: { value: 0.5 } },
          },
          { id: 'last', model: 'b', feeds: { h: { from: 'a-1', output: 'h' } } },
        ],
      },
      env(FILES),
    );
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    const g = r.spec.groups?.[0];
    const scale = g?.feeds.scale;
    const blob = scale && 'blob' in scale ? r.spec.blobs?.[scale.blob] : undefined;
    expect(blob?.dtype).toBe('float32');
    expect(Array.from(tensorValues(blob as Tensor) as Float32Array)).toEqual([0.5]);
    expect(r.spec.tasks[0]?.feeds.h).toEqual({ fromTask: 'a-1', output: 'h' });
  });

  it('refuses cycles, naming the tasks', async () => {
    const r = await loadManifestJob(
      {
        models: { b: 'b.onnx' },
        tasks: [
          { id: 'p', model: 'b', feeds: { h: { from: 'q', output: 'y' } } },
          { id: 'q', model: 'b', feeds: { h: { from: 'p', output: 'y' } } },
        ],
      },
      env(FILES),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems[0]?.code).toBe('cycle');
    expect(r.problems[0]?.message).toContain('p -> q -> p');
  });

  it('refuses unknown outputs and outputs a task does not keep', async () => {
    expect(
      await refused(
        threeStage((m) => {
          m.tasks[1]!.feeds = { h: { from: 'a', output: 'logits' } };
        }),
      ),
    ).toEqual(['unknown-output']);
    expect(
      await refused(
        threeStage((m) => {
          m.tasks[0]!.outputs = ['other'];
        }),
      ),
    ).toEqual(['unknown-output']);
  });

  it('refuses dtypes and fixed dims that differ between stages', async () => {
    const into = (model: string) =>
      threeStage((m) => {
        m.models.b = model;
        m.tasks.length = 2;
      });
    expect(await refused(into('ints.onnx'))).toEqual(['stage-mismatch']);
    const r = await loadManifestJob(into('wide.onnx'), env(FILES));
    expect(r.ok ? [] : r.problems.map((p) => p.message)).toEqual([
      'task b feed h: a\'s output "h" is float32 [?, 3], input "h" of model b takes float32 [?, 5]',
    ]);
  });

  it('refuses missing files and files that are not models or tensors', async () => {
    expect(
      await refused(
        threeStage((m) => {
          m.models.a = 'gone.onnx';
          m.tasks[0]!.feeds = { x: { file: 'gone.npy', split: true } };
        }),
      ),
    ).toEqual(['missing-file', 'missing-file']);
    expect(
      await refused(
        threeStage((m) => {
          m.models.c = 'broken.onnx';
        }),
      ),
    ).toEqual(['bad-file']);
    expect(
      await refused({
        models: { enc: 'enc.onnx' },
        tasks: [
          {
            id: 'e',
            model: 'enc',
            feeds: {
              input_ids: { file: 'inputs.npz', key: 'ids' },
              attention_mask: { file: 'inputs.npz' },
            },
          },
        ],
      }),
    ).toEqual(['bad-file']);
  });

  it("refuses feeds that do not fit their model's inputs", async () => {
    const r = await loadManifestJob(
      {
        models: { enc: 'enc.onnx' },
        tasks: [{ id: 'e', model: 'enc', feeds: { input_ids: { file: 'x.npy' } } }],
      },
      env(FILES),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => p.code)).toEqual(['feed-mismatch', 'feed-mismatch']);
    expect(r.problems.map((p) => p.message).join('\n')).toMatch(/must be int64, got float32/);
    expect(r.problems.map((p) => p.message).join('\n')).toMatch(/"attention_mask" is missing/);
  });

  it('refuses fan-outs it cannot count, gathers of one task and unknown tasks', async () => {
    expect(
      await refused(
        threeStage((m) => {
          m.tasks[0]!.forEach = { rows: 3 };
        }),
      ),
    ).toEqual(['bad-fan-out']);
    expect(
      await refused(
        threeStage((m) => {
          m.tasks[1] = { id: 'b', model: 'b', forEach: {}, feeds: {} };
        }),
      ),
    ).toContain('bad-fan-out');
    expect(
      await refused(
        threeStage((m) => {
          m.tasks[2]!.feeds = { part0: { from: 'b', output: 'y' } };
        }),
      ),
    ).toContain('bad-fan-out');
    expect(
      await refused(
        threeStage((m) => {
          m.tasks[2]!.feeds = { 'part{i}': { from: 'nobody', output: 'y' } };
        }),
      ),
    ).toEqual(['unknown-task']);
    expect(
      await refused(
        threeStage((m) => {
          m.tasks.push({ id: 'd', model: 'b', feeds: { h: { from: 'a-9', output: 'h' } } });
        }),
      ),
    ).toEqual(['unknown-task']);
  });

  it('refuses malformed manifests and policies out of range, every problem listed', async () => {
    expect(await refused('{ not json')).toEqual(['bad-manifest']);
    expect(
      await refused({
        models: {},
        tasks: [{ id: 'bad id', model: 1, feeds: { x: { file: 'x.npy', split: true } } }],
        extra: true,
      }),
    ).toEqual(['bad-manifest', 'bad-manifest', 'bad-manifest', 'bad-manifest', 'bad-manifest']);
    expect(
      await refused(
        threeStage((m) => {
          m.policy = { replicas: 1, quorum: 2 };
        }),
      ),
    ).toEqual(['invalid-job']);
    expect(
      await refused(
        threeStage((m) => {
          m.policy = { replica: 2 };
        }),
      ),
    ).toEqual(['bad-manifest']);
  });

  it('refuses ids that clash with a fan-out task', async () => {
    expect(
      await refused(
        threeStage((m) => {
          m.tasks.push({ id: 'a-1', model: 'b', feeds: { h: { from: 'a-0', output: 'h' } } });
        }),
      ),
    ).toEqual(['duplicate-task']);
  });

  it('keeps a json tensor of one row as one task', async () => {
    const r = await loadManifestJob(
      {
        models: { a: 'a.onnx' },
        tasks: [{ id: 'one', model: 'a', feeds: { x: { file: 'x.json' } } }],
      },
      env(FILES),
    );
    expect(r.ok && r.spec.tasks.map((t) => t.id)).toEqual(['one']);
    const dtype: DType | undefined = r.ok ? Object.values(r.spec.blobs ?? {})[0]?.dtype : undefined;
    expect(dtype).toBe('float32');
  });
});

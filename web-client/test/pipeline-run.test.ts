/**
 * The Submit view's pipeline path against a stand-in page runtime: the
 * chosen files are the file system, each manifest stage is a job the page
 * submits and whose .npz results it reads back, the steps run here, and a
 * pipeline with an unknown step or a missing file is refused before any job
 * is submitted.
 */
import {
  allTasks,
  encodeNpz,
  type JobSpec,
  resultEntryName,
  type Tensor,
  tensorFrom,
} from '@peergrid/shared';
import { describe, expect, it } from 'vitest';
import type { ModelInfo } from '../src/exec/worker-protocol.ts';
import type { UploadedFile } from '../src/lib/manifest-draft.ts';
import {
  PipelineRefused,
  type PipelineView,
  pipelineRun,
  readManifestUpload,
  resultsByTask,
  startPipeline,
} from '../src/lib/pipeline-run.ts';
import type { JobDraft, PageRuntime } from '../src/state/runtime.ts';
import { createStore } from '../src/state/store.ts';
import type { JobDetail } from '../src/state/types.ts';

const file = (name: string, bytes: Uint8Array | string): UploadedFile => {
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  return {
    name,
    size: data.byteLength,
    arrayBuffer: async () => data.slice().buffer as ArrayBuffer,
  };
};

const MODELS: Record<string, ModelInfo> = {
  det: {
    inputs: [{ name: 'x', type: 'float32', shape: [1, 3, 4294967295, 4294967295] }],
    outputs: ['map'],
    outputSpecs: [{ name: 'map', type: 'float32', shape: [1, 1, 'h', 'w'] }],
  },
  rec: {
    inputs: [{ name: 'x', type: 'float32', shape: [4294967295, 3, 8, 16] }],
    outputs: ['probs'],
    outputSpecs: [{ name: 'probs', type: 'float32', shape: [1, 'T', 3] }],
  },
};

/** Det finds one box in image `a`; rec reads "AB" from every crop. */
function outputsOf(spec: JobSpec): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const t of allTasks(spec)) {
    if (t.id.startsWith('det-')) {
      const m = new Float32Array(8 * 16);
      for (let y = 2; y < 6; y++) for (let x = 2; x < 14; x++) m[y * 16 + x] = 0.9;
      out[resultEntryName(t.id, 'map').replace(/\.npy$/, '')] = tensorFrom(
        'float32',
        [1, 1, 8, 16],
        m,
      );
    } else {
      const p = new Float32Array(12);
      [1, 1, 0, 2].forEach((c, s) => {
        p[s * 3 + c] = 1;
      });
      out[resultEntryName(t.id, 'probs').replace(/\.npy$/, '')] = tensorFrom(
        'float32',
        [1, 4, 3],
        p,
      );
    }
  }
  return out;
}

function fakeRuntime(submitted: JobDraft[]): PageRuntime {
  const results = new Map<string, Record<string, Tensor>>();
  const rt = {
    inspectModel: async (bytes: Uint8Array) => {
      const m = MODELS[new TextDecoder().decode(bytes)];
      if (!m) throw new Error('not a model');
      return m;
    },
    submit: async (draft: JobDraft) => {
      submitted.push(draft);
      const jobId = `job${submitted.length}`;
      results.set(jobId, outputsOf(draft.spec));
      return { ok: true as const, jobId };
    },
    jobDetail: () => createStore({ state: 'completed' } as JobDetail),
    resultsArchive: async (id: string) => {
      const r = results.get(id);
      return r ? { blob: new Blob([encodeNpz(r).slice().buffer as ArrayBuffer]), tasks: 0 } : null;
    },
  };
  return rt as unknown as PageRuntime;
}

const PIPELINE = {
  name: 'ocr',
  stages: [
    { id: 'det', manifest: 'det.json' },
    {
      id: 'crops',
      step: 'ocr-crops',
      with: { maps: 'det', task: 'det-{name}', images: 'images.npz', height: 8, width: 16 },
    },
    { id: 'rec', manifest: 'rec.json' },
    { id: 'text', step: 'ocr-text', with: { outputs: 'rec', crops: 'crops', keys: 'keys.txt' } },
  ],
};

const FILES = [
  file('det.onnx', 'det'),
  file('rec.onnx', 'rec'),
  file('keys.txt', 'A\nB\n'),
  file('inputs.npz', encodeNpz({ a: tensorFrom('float32', [1, 3, 8, 16], new Float32Array(384)) })),
  file('images.npz', encodeNpz({ a: tensorFrom('uint8', [16, 32, 3], new Uint8Array(1536)) })),
  file(
    'det.json',
    JSON.stringify({
      models: { det: 'models/det.onnx' },
      tasks: [{ id: 'det-a', model: 'det', feeds: { x: { file: 'inputs.npz', key: 'a' } } }],
    }),
  ),
  file(
    'rec.json',
    JSON.stringify({
      models: { rec: 'rec.onnx' },
      tasks: [
        {
          id: 'rec',
          model: 'rec',
          forEach: { rows: 1 },
          feeds: { x: { file: 'crops.npz', split: true } },
        },
      ],
    }),
  ),
];

async function ended(): Promise<PipelineView> {
  for (let i = 0; i < 200; i++) {
    const v = pipelineRun().get();
    if (v && v.state !== 'running') return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the pipeline did not end');
}

describe('pipelines in the page', () => {
  it('tells a pipeline from a manifest, JSON or YAML', async () => {
    expect((await readManifestUpload(file('p.json', JSON.stringify(PIPELINE)))).pipeline).toBe(
      true,
    );
    const y = await readManifestUpload(file('p.yml', 'stages:\n  - { id: a, manifest: a.json }\n'));
    expect(y).toMatchObject({ format: 'yaml', pipeline: true });
    expect((await readManifestUpload(file('job.yaml', 'models: {}\ntasks: []\n'))).pipeline).toBe(
      false,
    );
  });

  it('runs every stage: jobs through the page, steps here; the result is the text', async () => {
    const submitted: JobDraft[] = [];
    const p = file('pipeline.json', JSON.stringify(PIPELINE));
    const { text, format } = await readManifestUpload(p);
    await startPipeline(fakeRuntime(submitted), p, FILES, text, format);
    const v = await ended();
    expect(v.error).toBeUndefined();
    expect(v.result).toEqual({ a: ['AB'] });
    expect(v.stages.map((s) => [s.id, s.state, s.jobId ?? null])).toEqual([
      ['det', 'done', 'job1'],
      ['crops', 'done', null],
      ['rec', 'done', 'job2'],
      ['text', 'done', null],
    ]);
    expect(submitted.map((d) => [d.kind, d.name])).toEqual([
      ['manifest', 'ocr · det · 1 task'],
      ['manifest', 'ocr · rec · 1 task'],
    ]);
    expect(v.stages[1]?.note).toBe('1 text boxes in 1 images → crops.npz');
  });

  it('refuses an unknown step and a missing file before submitting anything', async () => {
    const submitted: JobDraft[] = [];
    const bad = JSON.parse(JSON.stringify(PIPELINE));
    bad.stages[3].step = 'ocr-txt';
    const p = file('pipeline.json', JSON.stringify(bad));
    const files = FILES.filter((f) => f.name !== 'images.npz');
    const { text, format } = await readManifestUpload(p);
    const err = await startPipeline(fakeRuntime(submitted), p, files, text, format).catch((e) => e);
    expect(err).toBeInstanceOf(PipelineRefused);
    expect((err as PipelineRefused).problems.map((x) => x.code)).toEqual([
      'missing-file',
      'unknown-step',
    ]);
    expect((err as Error).message).toMatch(
      /^pipeline\.json is refused:\n {2}stage crops \(ocr-crops\): images: no file images\.npz\n {2}stage text \(ocr-txt\): no step "ocr-txt"/,
    );
    expect(submitted).toEqual([]);
  });

  it("reads a job's .npz entries back by task, names unescaped", () => {
    const t = tensorFrom('float32', [1], Float32Array.from([1]));
    const m = resultsByTask({ 'rec-0/probs': t, 'a%2Fb/out%3A1': t });
    expect([...m.keys()]).toEqual(['rec-0', 'a/b']);
    expect(Object.keys(m.get('a/b') ?? {})).toEqual(['out:1']);
  });
});

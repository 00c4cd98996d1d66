/**
 * Pipelines against an in-memory file set and a stand-in grid (`runJob`
 * computes each job's outputs from its feeds): stages in order, the OCR
 * steps between manifests, step files feeding a later manifest's fan-out,
 * every refusal made before any job runs, and failures while running.
 */
import { describe, expect, it } from 'vitest';
import { encodeNpz } from '../../src/io/npz.ts';
import type { JobSpec } from '../../src/job/spec.ts';
import { allTasks } from '../../src/job/task-source.ts';
import { utf8 } from '../../src/job/utf8.ts';
import type { ModelDescription } from '../../src/manifest/build-manifest-job.ts';
import { normalizePath, parsePipelineDoc, resolvePath } from '../../src/pipeline/pipeline-doc.ts';
import { type PipelineEnv, runPipeline } from '../../src/pipeline/run-pipeline.ts';
import { type Tensor, type TensorMap, tensorFrom, tensorValues } from '../../src/tensor.ts';

const H = 8;
const W = 16;
const MODELS: Record<string, ModelDescription> = {
  det: {
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, null, null] }],
    outputs: [{ name: 'map', dtype: 'float32', shape: [1, 1, null, null] }],
  },
  rec: {
    inputs: [{ name: 'x', dtype: 'float32', shape: [null, 3, H, W] }],
    outputs: [{ name: 'probs', dtype: 'float32', shape: [1, null, 3] }],
  },
};

/** Image `a`: 16 × 32, white text-ish bar on black; its detector input is half the size. */
const image = tensorFrom('uint8', [16, 32, 3], new Uint8Array(16 * 32 * 3).fill(0));
const detInput = tensorFrom('float32', [1, 3, 8, 16], new Float32Array(3 * 8 * 16));

const json = (v: unknown) => utf8(JSON.stringify(v));
const FILES: Record<string, Uint8Array> = {
  'det.onnx': utf8('det'),
  'rec.onnx': utf8('rec'),
  'keys.txt': utf8('A\nB\n'),
  'inputs.npz': encodeNpz({ a: detInput }),
  'images.npz': encodeNpz({ a: image }),
  'det.json': json({
    models: { det: 'det.onnx' },
    tasks: [{ id: 'det-a', model: 'det', feeds: { x: { file: 'inputs.npz', key: 'a' } } }],
  }),
  'sub/rec.yaml': utf8(
    'models: { rec: ../rec.onnx }\ntasks:\n  - id: rec\n    model: rec\n    forEach: { rows: 1 }\n    feeds: { x: { file: ../crops.npz, split: true } }\n',
  ),
};

const PIPELINE = {
  name: 'ocr',
  stages: [
    { id: 'det', manifest: 'det.json' },
    {
      id: 'crops',
      step: 'ocr-crops',
      with: { maps: 'det', task: 'det-{name}', images: 'images.npz', height: H, width: W },
    },
    { id: 'rec', manifest: 'sub/rec.yaml' },
    { id: 'text', step: 'ocr-text', with: { outputs: 'rec', crops: 'crops', keys: 'keys.txt' } },
  ],
};

/** The stand-in grid: det gives one box (map rows 2–5, cols 2–13); rec reads "AB" from every crop. */
function fakeJob(spec: JobSpec): Map<string, TensorMap> {
  const out = new Map<string, TensorMap>();
  for (const t of allTasks(spec)) {
    if (t.id.startsWith('det-')) {
      const m = new Float32Array(8 * 16);
      for (let y = 2; y < 6; y++) for (let x = 2; x < 14; x++) m[y * 16 + x] = 0.9;
      out.set(t.id, { map: tensorFrom('float32', [1, 1, 8, 16], m) });
    } else {
      const feed = t.feeds.x;
      const x: Tensor | undefined =
        feed && 'tensor' in feed
          ? feed.tensor
          : feed && 'blob' in feed
            ? spec.blobs?.[feed.blob]
            : undefined;
      if (!x || x.dims.join() !== `1,3,${H},${W}`) throw new Error(`rec task ${t.id}: bad crop`);
      // Steps: A, A, blank, B → "AB".
      const p = new Float32Array(4 * 3);
      [1, 1, 0, 2].forEach((c, s) => {
        p[s * 3 + c] = 1;
      });
      out.set(t.id, { probs: tensorFrom('float32', [1, 4, 3], p) });
    }
  }
  return out;
}

function env(files: Record<string, Uint8Array>, jobs: JobSpec[] = []): PipelineEnv {
  return {
    read: async (p) => files[normalizePath(p)] ?? null,
    describeModel: (bytes) => {
      const d = MODELS[String.fromCharCode(...bytes)];
      if (!d) throw new Error('no graph');
      return d;
    },
    sha256: async (bytes) => {
      let h = 2166136261;
      for (const b of bytes) h = Math.imul(h ^ b, 16777619) >>> 0;
      return `${h.toString(16).padStart(8, '0')}${bytes.byteLength.toString(16)}`.padEnd(64, '0');
    },
    runJob: async (spec) => {
      jobs.push(spec);
      return fakeJob(spec);
    },
  };
}

const messages = (r: Awaited<ReturnType<typeof runPipeline>>) =>
  r.ok ? [] : r.problems.map((p) => `${p.code}: ${p.message}`);

describe('pipelines', () => {
  it('runs manifests and steps in order; a step file feeds the next manifest; the last value is the result', async () => {
    const jobs: JobSpec[] = [];
    const lines: string[] = [];
    const e = { ...env(FILES, jobs), onStage: (s: { line: string }) => lines.push(s.line) };
    const r = await runPipeline(JSON.stringify(PIPELINE), e);
    expect(messages(r)).toEqual([]);
    if (!r.ok) return;
    expect(r.value).toEqual({ a: ['AB'] });
    expect(jobs.map((j) => allTasks(j).map((t) => t.id))).toEqual([['det-a'], ['rec-0']]);
    // The map is scaled to the image (×2) and the box grown back (unclip): cut from the image's pixels.
    const crops = r.outputs.get('crops');
    expect(crops?.kind).toBe('step');
    if (crops?.kind !== 'step') return;
    const [box] = (
      crops.value as { boxes: { x: number; y: number; width: number; height: number }[] }
    ).boxes;
    expect(box).toMatchObject({ image: 'a' });
    expect(box!.x).toBeLessThan(4);
    expect(box!.x + box!.width).toBeGreaterThan(28);
    expect(Object.keys(crops.files)).toEqual(['crops.npz']);
    // Black pixels become -1 in the crop (BGR, (x/255 − 0.5)/0.5), the padding stays 0.
    const recSpec = jobs[1]!;
    const blob = Object.values(recSpec.blobs ?? {})[0]!;
    const v = tensorValues(blob) as Float32Array;
    expect(v[0]).toBe(-1);
    expect(lines).toContain('stage crops (ocr-crops): 1 text boxes in 1 images → crops.npz');
  });

  it('YAML pipelines read the same', async () => {
    const yaml = `name: ocr
stages:
  - { id: det, manifest: det.json }
  - id: crops
    step: ocr-crops
    with: { maps: det, task: "det-{name}", images: images.npz, height: ${H}, width: ${W} }
  - { id: rec, manifest: sub/rec.yaml }
  - { id: text, step: ocr-text, with: { outputs: rec, crops: crops, keys: keys.txt } }
`;
    const r = await runPipeline(yaml, env(FILES), 'yaml');
    expect(r.ok && r.value).toEqual({ a: ['AB'] });
    const bad = await runPipeline(
      'stages:\n  - id: det\n   manifest: det.json\n',
      env(FILES),
      'yaml',
    );
    expect(messages(bad)).toEqual([
      expect.stringMatching(/^bad-pipeline: not valid YAML: line 3, column \d+: /),
    ]);
  });

  it('refuses before any job runs: unknown steps, parameters and stages, missing files', async () => {
    const jobs: JobSpec[] = [];
    const files = { ...FILES };
    delete files['keys.txt'];
    delete files['rec.onnx'];
    const p = JSON.parse(JSON.stringify(PIPELINE)) as { stages: Record<string, unknown>[] };
    (p.stages[1]!.with as Record<string, unknown>).colour = 'red';
    (p.stages[1]!.with as Record<string, unknown>).height = 0;
    p.stages.push({ id: 'more', step: 'ocr-txt' });
    p.stages.push({
      id: 'again',
      step: 'ocr-text',
      with: { outputs: 'crops', crops: 'det', keys: 'keys.txt' },
    });
    p.stages.push({
      id: 'early',
      step: 'ocr-text',
      with: { outputs: 'later', crops: 'crops', keys: 'k' },
    });
    const r = await runPipeline(p, env(files, jobs));
    expect(jobs).toEqual([]);
    expect(messages(r)).toEqual([
      'bad-step: stage crops (ocr-crops): unknown parameter "colour" (ocr-crops takes maps, images, task, output, out, height, width, threshold, boxThreshold, unclipRatio, minPixels)',
      'bad-step: stage crops (ocr-crops): parameter "height" must be an integer >= 1 and <= 1024: the recognizer\'s input height',
      'missing-file: stage rec (sub/rec.yaml): model rec: no file ../rec.onnx',
      // crops.npz is not missing: the ocr-crops stage writes it (its parameters were refused, though).
      'missing-file: stage rec (sub/rec.yaml): task rec: no file ../crops.npz (given with the pipeline or written by a step before it)',
      'missing-file: stage text (ocr-text): keys: no file keys.txt',
      'unknown-step: stage more (ocr-txt): no step "ocr-txt" (steps: ocr-crops, ocr-text)',
      'unknown-stage: stage again (ocr-text): outputs "crops" is a ocr-crops step; it needs a manifest stage',
      'unknown-stage: stage again (ocr-text): crops "det" is a manifest; it needs an ocr-crops stage',
      'missing-file: stage again (ocr-text): keys: no file keys.txt',
      'unknown-stage: stage early (ocr-text): outputs "later" is no stage before it (before it: det, crops, rec, text, more, again)',
      'missing-file: stage early (ocr-text): keys: no file k',
    ]);
  });

  it('refuses malformed pipelines, every problem listed', () => {
    const r = parsePipelineDoc({
      stages: [
        { id: 'a', manifest: 'x.json', step: 'ocr-text' },
        { id: 'a', manifest: 'y.json' },
        { id: 'b c', manifest: 'z.json' },
        { id: 'd', step: 'ocr-text', with: [] },
      ],
      colour: 1,
    });
    expect(r.ok ? [] : r.problems.map((p) => p.message)).toEqual([
      'colour: unknown field',
      'stage a: give one of "manifest" (a job manifest\'s path) or "step" (a step\'s name)',
      'stage a: the id is given twice',
      'stages[2]: id must be letters, digits and _ . : - (a letter or digit first)',
      "stage d: with must be an object of the step's parameters",
    ]);
    expect(parsePipelineDoc('{"stages": []}').ok).toBe(false);
  });

  it('a manifest refused once its step files exist names its stage; a failed job stops the pipeline', async () => {
    // The crops are 8 high but the recognizer takes 9: found when rec.yaml is loaded, after det ran.
    const p = JSON.parse(JSON.stringify(PIPELINE));
    (p.stages[1]!.with as Record<string, unknown>).height = H + 1;
    const jobs: JobSpec[] = [];
    const r = await runPipeline(p, env(FILES, jobs));
    expect(jobs).toHaveLength(1);
    expect(messages(r)).toEqual([
      expect.stringMatching(/^feed-mismatch: stage rec \(sub\/rec\.yaml\): task rec: .*x/),
    ]);
    const failing = {
      ...env(FILES),
      runJob: async () => Promise.reject(new Error('the job ended failed')),
    };
    expect(messages(await runPipeline(PIPELINE, failing))).toEqual([
      'stage-failed: stage det (det.json): the job ended failed',
    ]);
  });

  it('a step that finds bad data stops with its message', async () => {
    const p = JSON.parse(JSON.stringify(PIPELINE));
    (p.stages[1]!.with as Record<string, unknown>).task = 'detect-{name}';
    expect(messages(await runPipeline(p, env(FILES)))).toEqual([
      'stage-failed: stage crops (ocr-crops): image a: the detection stage has no task detect-a (its tasks: det-a)',
    ]);
    const gray = {
      ...FILES,
      'images.npz': encodeNpz({ a: tensorFrom('uint8', [16, 32], new Uint8Array(512)) }),
    };
    expect(messages(await runPipeline(PIPELINE, env(gray)))).toEqual([
      'stage-failed: stage crops (ocr-crops): images.npz image a: an image is uint8 [H, W, 3] (RGB) or [H, W, 4] (RGBA), got uint8 [16, 32]',
    ]);
  });

  it('paths: relative to their folder, .. folded, absolute kept', () => {
    expect(resolvePath('sub', '../crops.npz')).toBe('crops.npz');
    expect(resolvePath('', './a/./b/../c.npz')).toBe('a/c.npz');
    expect(resolvePath('', '../../models/x.onnx')).toBe('../../models/x.onnx');
    expect(resolvePath('sub', '/abs/x.onnx')).toBe('/abs/x.onnx');
  });
});

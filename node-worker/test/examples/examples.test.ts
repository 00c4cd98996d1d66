/**
 * The examples under examples/: the committed files are what the generator
 * writes, and each example's manifest runs through the `peergrid` CLI on a
 * loopback grid (signaling here, two `peergrid-worker` children) and equals
 * its reference, computed without ONNX Runtime. Results come back as the
 * .npz (or folder of .npy files) the CLI streams as tasks verify.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CompareRule,
  decodeNpy,
  decodeNpz,
  outputsMatch,
  type Tensor,
} from '@peergrid/shared';
import { type RunningSignalingServer, startSignalingServer } from '@peergrid/signaling';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EXAMPLES,
  EXAMPLES_DIR,
  type ExampleName,
  exampleFiles,
} from '../../src/examples/index.ts';
import { OCR_TRUTH } from '../../src/examples/ocr-example.ts';
import {
  OCR_EXAMPLE_DIR,
  OCR_PIPELINE,
  runPipelineLocally,
} from '../../src/examples/ocr-pipeline.ts';
import { cli, summaryOf } from '../integration/cli-harness.ts';
import { spawnWorker, type TestWorker } from '../integration/grid-harness.ts';

const RULE: CompareRule = { kind: 'tolerance', abs: 1e-5, rel: 1e-5 };
/** The manifests with a reference.npz (ocr's reference is its text, reference.json). */
const NPZ_EXAMPLES = EXAMPLES.filter((e) => e !== 'ocr');
const OCR_REFERENCE = JSON.parse(readFileSync(join(OCR_EXAMPLE_DIR, 'reference.json'), 'utf8'));

/** Edit distance (insertions, deletions, substitutions). */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        row[j]! + 1,
        next[j - 1]! + 1,
        row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length]!;
}

function reference(name: ExampleName): Record<string, Tensor> {
  const r = decodeNpz(new Uint8Array(readFileSync(join(EXAMPLES_DIR, name, 'reference.npz'))));
  if (!r.ok) throw new Error(r.error);
  return r.tensors;
}

/** Entries of `got` that do not match the reference, and reference entries missing from it. */
function differences(got: Record<string, Tensor>, ref: Record<string, Tensor>): string[] {
  const out: string[] = [];
  for (const [key, t] of Object.entries(ref)) {
    const g = got[key];
    if (!g) out.push(`${key}: missing`);
    else if (!outputsMatch({ t: g }, { t }, RULE)) out.push(`${key}: differs`);
  }
  for (const key of Object.keys(got)) if (!ref[key]) out.push(`${key}: not in the reference`);
  return out;
}

describe('examples', () => {
  it.each(EXAMPLES)('examples/%s holds what the generator writes', (name) => {
    for (const [file, data] of Object.entries(exampleFiles(name))) {
      const committed = readFileSync(join(EXAMPLES_DIR, name, file));
      const want = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
      expect(
        committed.equals(want),
        `${name}/${file} is stale: npm run gen:examples -w node-worker`,
      ).toBe(true);
    }
  });

  it('ocr: the local pipeline gives reference.json, within a few characters of the drawn text', async () => {
    {
      const text = (await runPipelineLocally(OCR_PIPELINE)) as Record<string, string[]>;
      expect(text).toEqual(OCR_REFERENCE);
      let errors = 0;
      let chars = 0;
      for (const [image, lines] of Object.entries(OCR_TRUTH)) {
        const want = lines.join('').replaceAll(' ', '');
        errors += distance((text[image] ?? []).join('').replaceAll(' ', ''), want);
        chars += want.length;
      }
      // The bitmap font fools the recognizer on a few letters (V→Y, P→F, D→O): 4 of 97.
      expect(errors / chars).toBeLessThan(0.1);
    }
  }, 120_000);

  describe('through the CLI on a grid', () => {
    let server: RunningSignalingServer;
    let signalUrl: string;
    let dir: string;
    const workers: TestWorker[] = [];
    const grid = 'examples-test';

    beforeAll(async () => {
      server = await startSignalingServer({ port: 0, host: '127.0.0.1' });
      signalUrl = server.url.replace(/^http/, 'ws');
      dir = mkdtempSync(join(tmpdir(), 'peergrid-examples-'));
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

    const run = async (name: ExampleName, out: string, extra: string[] = []) => {
      const c = cli(
        [
          'run',
          join(EXAMPLES_DIR, name, 'job.json'),
          '--signal',
          signalUrl,
          '--grid',
          grid,
          '--state',
          join(dir, `state-${name}-${out.endsWith('/') ? 'dir' : 'npz'}`),
          '--out',
          out,
          ...extra,
        ],
        dir,
      );
      expect(await c.exit, c.stderr()).toBe(0);
      expect(summaryOf(c.stderr())?.state).toBe('completed');
      return c.stderr();
    };

    it.each(NPZ_EXAMPLES)(
      '%s: results.npz equals the reference',
      async (name) => {
        const out = join(dir, `${name}.npz`);
        const log = await run(name, out);
        expect(log).toMatch(/results written to .*: \d+ tasks/);
        const got = decodeNpz(new Uint8Array(readFileSync(out)));
        if (!got.ok) throw new Error(got.error);
        expect(differences(got.tensors, reference(name))).toEqual([]);
      },
      120_000,
    );

    it('three-stage: --out DIR/ holds one .npy per task and output, and --check agrees', async () => {
      const out = join(dir, 'three-stage-out/');
      const log = await run('three-stage', out, ['--check']);
      // --check runs the manifest's tasks here too (onnxruntime-node) and compares by its policy.
      expect(summaryOf(log)?.check).toEqual({ matched: 9, total: 9 });
      const got: Record<string, Tensor> = {};
      for (const task of readdirSync(out)) {
        for (const file of readdirSync(join(out, task))) {
          const r = decodeNpy(new Uint8Array(readFileSync(join(out, task, file))));
          if (!r.ok) throw new Error(r.error);
          got[`${task}/${file.replace(/\.npy$/, '')}`] = r.tensor;
        }
      }
      expect(differences(got, reference('three-stage'))).toEqual([]);
    }, 120_000);

    it('ocr: pipeline.json (detection, crops, recognition, text) through the CLI gives the reference text', async () => {
      const out = join(dir, 'ocr-out/');
      const c = cli(
        [
          'run',
          OCR_PIPELINE,
          '--signal',
          signalUrl,
          '--grid',
          grid,
          '--state',
          join(dir, 'state-ocr'),
          '--out',
          out,
        ],
        dir,
      );
      expect(await c.exit, c.stderr()).toBe(0);
      // The result on stdout and in result.json, every stage's output kept beside it.
      expect(JSON.parse(c.stdout())).toEqual(OCR_REFERENCE);
      expect(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'))).toEqual(OCR_REFERENCE);
      expect(readdirSync(out).sort()).toEqual(
        ['crops.json', 'crops.npz', 'det.npz', 'rec.npz', 'result.json', 'text.json'].sort(),
      );
      const crops = decodeNpz(new Uint8Array(readFileSync(join(out, 'crops.npz'))));
      if (!crops.ok) throw new Error(crops.error);
      const lines = Object.values(OCR_REFERENCE as Record<string, string[]>).flat().length;
      expect(crops.tensors.x?.dims).toEqual([lines, 3, 48, 320]);
      expect(c.stderr()).toMatch(/stage crops \(ocr-crops\): \d+ text boxes in 3 images/);
    }, 240_000);

    it('refuses a pipeline with an unknown step and a missing file before joining the grid', async () => {
      const bad = join(dir, 'bad-pipeline.yaml');
      // YAML, as a person might write it: the same checks and messages as JSON.
      const yaml = [
        'name: batch OCR',
        'stages:',
        `  - { id: det, manifest: ${join(OCR_EXAMPLE_DIR, 'det.json')} }`,
        '  - id: crops',
        '    step: ocr-crops',
        '    with: { maps: det, task: "det-{name}", images: no-such-images.npz }',
        `  - { id: rec, manifest: ${join(OCR_EXAMPLE_DIR, 'rec.json')} }`,
        '  - id: text',
        '    step: ocr-txt',
        '    with: { outputs: rec, crops: crops, keys: keys.txt }',
      ].join('\n');
      await import('node:fs/promises').then((fs) => fs.writeFile(bad, yaml));
      try {
        const c = cli(
          [
            'run',
            bad,
            '--signal',
            'ws://127.0.0.1:9',
            '--grid',
            grid,
            '--state',
            join(dir, 'state-bad-pipeline'),
          ],
          dir,
        );
        expect(await c.exit).toBe(1);
        const err = c.stderr();
        expect(err).toMatch(/bad-pipeline\.yaml is refused:\n/);
        expect(err).toMatch(
          /\n\s+stage crops \(ocr-crops\): images: no file no-such-images\.npz\n/,
        );
        expect(err).toMatch(
          /\n\s+stage text \(ocr-txt\): no step "ocr-txt" \(steps: ocr-crops, ocr-text\)/,
        );
        // Refused before joining: no grid at ws://127.0.0.1:9 was ever needed.
        expect(err).not.toMatch(/connect|signal/i);
      } finally {
        rmSync(bad, { force: true });
      }
    }, 30_000);

    it('refuses a manifest with a missing file before joining the grid', async () => {
      const bad = join(dir, 'bad.json');
      const manifest = JSON.parse(readFileSync(join(EXAMPLES_DIR, 'encoder', 'job.json'), 'utf8'));
      manifest.models.encoder = join(EXAMPLES_DIR, 'encoder', 'missing.onnx');
      manifest.tasks[0].feeds.input_ids.file = join(EXAMPLES_DIR, 'encoder', 'inputs.npz');
      manifest.tasks[0].feeds.attention_mask.file = join(EXAMPLES_DIR, 'encoder', 'inputs.npz');
      await import('node:fs/promises').then((fs) => fs.writeFile(bad, JSON.stringify(manifest)));
      const c = cli(
        ['run', bad, '--signal', signalUrl, '--grid', grid, '--state', join(dir, 'state-bad')],
        dir,
      );
      expect(await c.exit).toBe(1);
      expect(c.stderr()).toMatch(
        /bad\.json is refused:\n\s+model encoder: no file .*missing\.onnx/,
      );
    }, 30_000);
  });
});

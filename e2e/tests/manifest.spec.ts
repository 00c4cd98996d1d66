/**
 * Job manifests through the page: each example under examples/ is submitted
 * in the Submit view as its job.json with its files, runs on a grid of a
 * donor tab and two node workers, and the .npz the job view downloads (read
 * from IndexedDB a page at a time) equals the example's reference, computed
 * without ONNX Runtime. A manifest naming a file that was not given is
 * refused before anything is stored, and a YAML manifest gets the same
 * checks. The OCR example is a pipeline (examples/ocr/pipeline.json: the
 * detection manifest, the ocr-crops step, the recognition manifest, the
 * ocr-text step): the page is given its files and runs all of it itself,
 * crops and text included, and its text equals examples/ocr/reference.json.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CompareRule, decodeNpz, outputsMatch, type Tensor } from '@peergrid/shared';
import type { Page } from '@playwright/test';
import { OCR_MODELS, ocrAsset } from '../../node-worker/src/examples/ocr-example.ts';
import { expect, test } from '../harness/fixtures.ts';
import { waitCompleted } from '../harness/jobs.ts';
import { REPO_DIR } from '../harness/paths.ts';

const EXAMPLES = join(REPO_DIR, 'examples');
/** WASM in the page, onnxruntime-node in the workers and the float64 reference agree to ~1e-7. */
const RULE: CompareRule = { kind: 'tolerance', abs: 1e-5, rel: 1e-5 };

function npz(bytes: Uint8Array): Record<string, Tensor> {
  const r = decodeNpz(bytes);
  if (!r.ok) throw new Error(r.error);
  return r.tensors;
}

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

/** Fills in the Submit view's manifest form; resolves with the job id, or throws the refusal. */
async function submitManifest(
  page: Page,
  manifest: string,
  files: readonly string[],
): Promise<string> {
  await page.getByTestId('nav-submit').click();
  await page.getByTestId('sample-manifest').click();
  await page.getByTestId('manifest-file').setInputFiles(manifest);
  await page.getByTestId('manifest-files').setInputFiles([...files]);
  await page.getByTestId('submit-job').click();
  const error = page.getByTestId('submit-error');
  const went = page.waitForURL(/#\/jobs\/[^/]+$/, { timeout: 60_000 }).then(() => 'went' as const);
  const refused = error.waitFor({ timeout: 60_000 }).then(() => 'refused' as const);
  went.catch(() => {});
  refused.catch(() => {});
  if ((await Promise.race([went, refused])) === 'refused') {
    throw new Error(`submit refused: ${await error.textContent()}`);
  }
  return decodeURIComponent(new URL(page.url()).hash.replace(/^#\/jobs\//, ''));
}

test('manifest: each example through the page equals its reference', async ({ startGrid }) => {
  const grid = await startGrid({ donorTabs: 1, nodeWorkers: 2 });
  const page = grid.submitter!.page;
  for (const name of ['encoder', 'three-stage']) {
    const dir = join(EXAMPLES, name);
    const files = readdirSync(dir)
      .filter((f) => f !== 'job.json' && f !== 'reference.npz' && f !== 'README.md')
      .map((f) => join(dir, f));
    const got = await runThroughPage(page, join(dir, 'job.json'), files);
    const ref = npz(new Uint8Array(readFileSync(join(dir, 'reference.npz'))));
    expect(differences(got, ref), name).toEqual([]);
  }
  expect(grid.problems()).toEqual([]);
});

/** Runs a manifest through the page and returns the job's .npz, as the job view downloads it. */
async function runThroughPage(
  page: Page,
  manifest: string,
  files: readonly string[],
): Promise<Record<string, Tensor>> {
  const jobId = await submitManifest(page, manifest, files);
  await page.locator(`[data-testid="job-view"][data-job-id="${jobId}"]`).waitFor();
  const detail = await waitCompleted(page, jobId, 150_000);
  expect(detail.failed, manifest).toBe(0);
  const download = page.waitForEvent('download');
  await page.getByTestId('download-npz').click();
  return npz(new Uint8Array(readFileSync(await (await download).path())));
}

test('manifest: the OCR pipeline (detection, crops, recognition, text) runs in the page and gives the reference text', async ({
  startGrid,
}) => {
  test.setTimeout(420_000);
  const grid = await startGrid({ donorTabs: 1, nodeWorkers: 2 });
  const page = grid.submitter!.page;
  const dir = join(EXAMPLES, 'ocr');
  // What a user chooses: the pipeline, its manifests, inputs, images, both models, the key file.
  const files = [
    join(dir, 'det.json'),
    join(dir, 'rec.json'),
    join(dir, 'det-inputs.npz'),
    join(dir, 'images.npz'),
    ocrAsset(OCR_MODELS.det),
    ocrAsset(OCR_MODELS.rec),
    ocrAsset(OCR_MODELS.keys),
  ];
  await page.getByTestId('nav-submit').click();
  await page.getByTestId('sample-manifest').click();
  await page.getByTestId('manifest-file').setInputFiles(join(dir, 'pipeline.json'));
  await page.getByTestId('manifest-files').setInputFiles(files);
  await page.getByTestId('submit-job').click();
  const view = page.getByTestId('pipeline-view');
  await view.waitFor({ timeout: 60_000 });
  await expect(view).toHaveAttribute('data-state', /^(done|failed)$/, { timeout: 300_000 });
  const error = page.getByTestId('pipeline-error');
  if (await error.isVisible()) throw new Error(`pipeline stopped: ${await error.textContent()}`);
  for (const stage of ['det', 'crops', 'rec', 'text']) {
    await expect(page.getByTestId(`pipeline-stage-${stage}`)).toHaveAttribute('data-state', 'done');
  }
  const text = JSON.parse((await page.getByTestId('pipeline-result').textContent()) ?? 'null');
  expect(text).toEqual(JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')));
  // Both manifests ran as jobs of this tab, every task verified.
  const jobs = await page.evaluate(() => window.peergrid?.jobs.get() ?? []);
  const lines = Object.values(text as Record<string, string[]>).flat().length;
  expect(jobs.map((j) => [j.state, j.verified]).sort()).toEqual(
    [
      ['completed', 3],
      ['completed', lines],
    ].sort(),
  );
  expect(grid.problems()).toEqual([]);
});

test('manifest: a manifest naming a file not given is refused, every problem listed', async ({
  startGrid,
}) => {
  const grid = await startGrid({ donorTabs: 0, nodeWorkers: 0, waitForMesh: false });
  const page = grid.submitter!.page;
  const dir = join(EXAMPLES, 'three-stage');
  // project.onnx and x.npy left out.
  const files = ['features.onnx', 'combine.onnx'].map((f) => join(dir, f));
  await expect(submitManifest(page, join(dir, 'job.json'), files)).rejects.toThrow(
    /job\.json is refused:[\s\S]*no file project\.onnx[\s\S]*no file x\.npy/,
  );
  expect(await page.evaluate(() => window.peergrid?.jobs.get().length ?? -1)).toBe(0);
});

test('manifest: pipelines and YAML manifests are checked whole before anything is stored', async ({
  startGrid,
}) => {
  const grid = await startGrid({ donorTabs: 0, nodeWorkers: 0, waitForMesh: false });
  const page = grid.submitter!.page;
  const ocr = join(EXAMPLES, 'ocr');
  // images.npz and the key file left out.
  await expect(
    submitManifest(page, join(ocr, 'pipeline.json'), [
      join(ocr, 'det.json'),
      join(ocr, 'rec.json'),
      join(ocr, 'det-inputs.npz'),
      ocrAsset(OCR_MODELS.det),
      ocrAsset(OCR_MODELS.rec),
    ]),
  ).rejects.toThrow(
    /pipeline\.json is refused:[\s\S]*stage crops \(ocr-crops\): images: no file images\.npz[\s\S]*stage text \(ocr-text\): keys: no file .*ppocr_keys_v1\.txt/,
  );
  const work = mkdtempSync(join(tmpdir(), 'peergrid-e2e-yaml-'));
  try {
    const three = join(EXAMPLES, 'three-stage');
    const yaml = [
      'name: three-stage graph',
      'models: { features: features.onnx, project: project.onnx, combine: combine.onnx }',
      'tasks:',
      '  - { id: features, model: features, forEach: { rows: 2 }, feeds: { x: { file: x.npy, split: true } } }',
      '  - { id: project, model: project, forEach: {}, feeds: { h: { from: features, output: h } } }',
      '  - id: combine',
      '    model: combine',
      '    feeds:',
      '      "part{i}": { from: project, output: y }',
    ].join('\n');
    writeFileSync(join(work, 'job.yaml'), yaml);
    // The same refusal as job.json's (project.onnx and x.npy left out).
    await expect(
      submitManifest(
        page,
        join(work, 'job.yaml'),
        ['features.onnx', 'combine.onnx'].map((f) => join(three, f)),
      ),
    ).rejects.toThrow(/job\.yaml is refused:[\s\S]*no file project\.onnx[\s\S]*no file x\.npy/);
    // A syntax error names its line.
    writeFileSync(
      join(work, 'broken.yml'),
      `${yaml.replace('  - id: combine', '  - id: combine\n   oops')}\n`,
    );
    await expect(submitManifest(page, join(work, 'broken.yml'), [])).rejects.toThrow(
      /broken\.yml is refused:\s+not valid YAML: line \d+, column \d+/,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  expect(await page.evaluate(() => window.peergrid?.jobs.get().length ?? -1)).toBe(0);
});

/**
 * Job manifests through the page: each example under examples/ is submitted
 * in the Submit view as its job.json with its files, runs on a grid of a
 * donor tab and two node workers, and the .npz the job view downloads (read
 * from IndexedDB a page at a time) equals the example's reference, computed
 * without ONNX Runtime. A manifest naming a file that was not given is
 * refused before anything is stored. The OCR example is two manifests with
 * a local step between (crops from the detector's boxes, see
 * node-worker/src/examples/ocr-example.ts): both go through the page, the
 * crops are cut here, and the text equals examples/ocr/reference.json.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CompareRule,
  decodeNpz,
  encodeNpz,
  outputsMatch,
  type Tensor,
} from '@peergrid/shared';
import type { Page } from '@playwright/test';
import {
  detMaps,
  OCR_MODELS,
  OCR_REC_OUTPUT,
  ocrAsset,
  ocrCrops,
  ocrImages,
  ocrKeys,
  ocrRecManifest,
  ocrText,
} from '../../node-worker/src/examples/ocr-example.ts';
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

test('manifest: OCR, detection then recognition through the page, gives the reference text', async ({
  startGrid,
}) => {
  const grid = await startGrid({ donorTabs: 1, nodeWorkers: 2 });
  const page = grid.submitter!.page;
  const dir = join(EXAMPLES, 'ocr');
  const work = mkdtempSync(join(tmpdir(), 'peergrid-e2e-ocr-'));
  try {
    const det = await runThroughPage(page, join(dir, 'det.json'), [
      join(dir, 'det-inputs.npz'),
      ocrAsset(OCR_MODELS.det),
    ]);
    const { crops, boxes } = ocrCrops(ocrImages(), detMaps(det));
    writeFileSync(join(work, 'crops.npz'), encodeNpz({ x: crops }));
    writeFileSync(join(work, 'rec.json'), JSON.stringify(ocrRecManifest(OCR_MODELS.rec)));
    const rec = await runThroughPage(page, join(work, 'rec.json'), [
      join(work, 'crops.npz'),
      ocrAsset(OCR_MODELS.rec),
    ]);
    const text = ocrText(boxes, (k) => rec[`rec-${k}/${OCR_REC_OUTPUT}`], ocrKeys());
    expect(text).toEqual(JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
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

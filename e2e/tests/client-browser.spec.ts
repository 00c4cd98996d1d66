/**
 * `@peergrid/client` in a browser, as a third-party web app would use it:
 * its browser entry bundled by esbuild into one script, loaded into a page of
 * the signaling server's origin, submitting a job over the page's own WebRTC
 * to two node workers, with its state in IndexedDB. The results must equal
 * onnxruntime-node's; after a reload the job is still in IndexedDB and
 * resuming it finds it completed, with the same results.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';
import * as ort from 'onnxruntime-node';
import { createMatmulModel } from '../../node-worker/src/workloads/matmul.ts';
import { killAllChildren } from '../harness/children.ts';
import { expect, test } from '../harness/fixtures.ts';
import { startNodeWorker } from '../harness/node-workers.ts';
import { REPO_DIR } from '../harness/paths.ts';
import { startSignaling } from '../harness/signaling.ts';

const require = createRequire(import.meta.url);

/** What the page runs: submit (or resume) and report, all through the client's API. */
const APP = `
import { connectGrid, tensorFrom, tensorValues } from '@peergrid/client/browser';

window.clientJob = async ({ signal, grid, model, trusted, resumeId }) => {
  const client = await connectGrid({ signal, grid, store: 'client-e2e' });
  try {
    const x = (k) => tensorFrom('float32', [1, 4], new Float32Array(4).fill(k / 10));
    const job = resumeId
      ? await client.resume(resumeId)
      : await client.submit({
          models: { m: new Uint8Array(model) },
          tasks: [1, 2, 3, 4].map((k) => ({ id: 't' + k, model: 'm', feeds: { x: x(k) } })),
          policy: { trustedDonors: trusted },
        });
    const states = [];
    for await (const p of job.progress()) states.push(p.state);
    const done = await job.done;
    const results = {};
    for (const [id, out] of await job.results()) results[id] = [...tensorValues(out.y)];
    return { id: job.id, resumed: job.resumed, ok: done.ok, states, results, failed: done.failed, progress: done.progress };
  } finally {
    await client.close();
  }
};
window.clientError = async ({ signal }) => {
  try {
    await connectGrid({ signal, store: 'client-e2e-bad', joinTimeoutMs: 2000 });
    return 'none';
  } catch (e) {
    return e.code;
  }
};
`;

async function bundle(): Promise<string> {
  const out = await build({
    stdin: { contents: APP, resolveDir: join(REPO_DIR, 'client'), loader: 'js' },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    conditions: ['browser'],
    // simple-peer's own standalone browser build (Buffer, streams and all inside).
    alias: { 'simple-peer': require.resolve('simple-peer/simplepeer.min.js') },
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

test('the client library submits from a page over WebRTC and resumes from IndexedDB', async ({
  browser,
}) => {
  const signaling = await startSignaling();
  try {
    const grid = `client-${Date.now()}`;
    const workers = await Promise.all(
      [0, 1].map((i) =>
        startNodeWorker({ signal: signaling.wsUrl, grid, name: `node-worker-${i}` }),
      ),
    );
    const code = await bundle();
    const context = await browser.newContext();
    const page = await context.newPage();
    // A page of the server's origin that is not the PeerGrid app.
    await page.goto(`${signaling.httpUrl}healthz`);
    await page.addScriptTag({ content: code, type: 'module' });
    await page.waitForFunction(() => 'clientJob' in window);

    const model = createMatmulModel({ size: 4, layers: 1, seed: 9 });
    const args = {
      signal: signaling.wsUrl,
      grid,
      model: [...model],
      trusted: workers.map((w) => w.id),
    };
    type Run = {
      id: string;
      resumed: boolean;
      ok: boolean;
      states: string[];
      results: Record<string, number[]>;
    };
    const first = (await page.evaluate(
      (a) => (window as unknown as { clientJob(a: unknown): Promise<unknown> }).clientJob(a),
      args,
    )) as Run;
    expect(first.ok, JSON.stringify(first)).toBe(true);
    expect(first.resumed).toBe(false);
    expect(first.states.at(-1)).toBe('completed');

    const session = await ort.InferenceSession.create(model);
    const want: Record<string, number[]> = {};
    for (const k of [1, 2, 3, 4]) {
      const r = await session.run({
        x: new ort.Tensor('float32', new Float32Array(4).fill(k / 10), [1, 4]),
      });
      want[`t${k}`] = [...(r.y!.data as Float32Array)];
    }
    await session.release();
    expect(first.results).toEqual(want);

    // After a reload the job is in IndexedDB: resuming it finds it done.
    await page.reload();
    await page.addScriptTag({ content: code, type: 'module' });
    await page.waitForFunction(() => 'clientJob' in window);
    const again = (await page.evaluate(
      (a) => (window as unknown as { clientJob(a: unknown): Promise<unknown> }).clientJob(a),
      { ...args, resumeId: first.id },
    )) as Run;
    expect(again).toMatchObject({ id: first.id, resumed: true, ok: true, results: want });

    // Errors are data: an unreachable grid is `connect-failed`.
    await signaling.kill();
    const code2 = await page.evaluate(
      (a) => (window as unknown as { clientError(a: unknown): Promise<string> }).clientError(a),
      { signal: args.signal },
    );
    expect(code2).toBe('connect-failed');
    await context.close();
    await Promise.all(workers.map((w) => w.stop()));
  } finally {
    await signaling.stop().catch(() => {});
    await killAllChildren();
  }
});

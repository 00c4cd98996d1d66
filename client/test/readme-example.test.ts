/**
 * client/README.md's example, run as it is written there: the first ```ts
 * block becomes a program in this package (so `@peergrid/client` resolves as
 * it would for a user), run by Node with tsx against a loopback grid of two
 * `peergrid-worker` processes. What it prints must be onnxruntime-node's
 * outputs for the same model and inputs.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMatmulModel, openDiskJobStore } from '@peergrid/node-worker';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGrid, type TestGrid } from '../../node-worker/test/integration/grid-harness.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const README = join(HERE, '..', 'README.md');
/** tsx's loader by URL: the program runs from a temporary directory. */
const TSX = import.meta.resolve('tsx');

function exampleCode(): string {
  const m = /```ts\n([\s\S]*?)```/.exec(readFileSync(README, 'utf8'));
  if (!m?.[1]) throw new Error('client/README.md has no ```ts block');
  return m[1];
}

describe("the README's example", () => {
  let grid: TestGrid;
  let dir: string;
  const model = createMatmulModel({ size: 4, layers: 1, seed: 5 });

  beforeAll(async () => {
    // The example joins grid 'default'.
    grid = await startTestGrid([{}, {}], { grid: 'default' });
    dir = mkdtempSync(join(tmpdir(), 'pg-client-example-'));
    writeFileSync(join(dir, 'model.onnx'), model);
  }, 90_000);
  afterAll(async () => {
    await grid?.close();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('is at most 10 lines, and prints the outputs a local run gives', async () => {
    const code = exampleCode();
    expect(code.trim().split('\n').length).toBeLessThanOrEqual(10);
    // Inside this package, so the import resolves through the workspace.
    const file = join(HERE, `.readme-example-${process.pid}.ts`);
    writeFileSync(file, code);
    let out = '';
    let err = '';
    const exit = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['--import', TSX, file], {
        cwd: dir,
        env: {
          ...process.env,
          PEERGRID_SIGNAL: `${grid.signalUrl}`,
          MODEL: join(dir, 'model.onnx'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.on('data', (d) => {
        out += d;
      });
      child.stderr.on('data', (d) => {
        err += d;
      });
      child.on('exit', resolve);
    }).finally(() => rmSync(file, { force: true }));
    expect(exit, err).toBe(0);
    expect(err).toMatch(/3\/3 verified/);
    const session = await ort.InferenceSession.create(model);
    const want: string[] = [];
    for (const k of [1, 2, 3]) {
      const r = await session.run({
        x: new ort.Tensor('float32', new Float32Array(4).fill(k / 10), [1, 4]),
      });
      want.push(`t${k} ${JSON.stringify([...(r.y!.data as Float32Array)])}`);
    }
    await session.release();
    expect(out.trim().split('\n').sort()).toEqual(want);
    // Its state directory holds the job and who computed it: the workers took part.
    const store = await openDiskJobStore(join(dir, 'state'));
    const [job] = await store.listJobs();
    const backers = new Set<string>();
    for await (const r of store.results(job!.jobId)) for (const b of r.backers) backers.add(b);
    await store.close();
    const workers = grid.workers.map((w) => w.id());
    expect([...backers].some((b) => workers.includes(b))).toBe(true);
  }, 120_000);
});

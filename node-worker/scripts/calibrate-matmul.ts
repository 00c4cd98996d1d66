/**
 * Prints the per-task time of the matmul presets on one core with
 * onnxruntime-node (intra-op threads 1). Last line: one JSON object.
 * Usage: npm run -w node-worker calibrate:matmul [-- --help]
 */
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { createMatmulInput, createMatmulModel, MATMUL_PRESETS } from '../src/workloads/matmul.ts';

if (process.argv.includes('--help')) {
  console.log(
    'calibrate-matmul: measures ms per task of the tiny/ms2/ms20 matmul presets on one core',
  );
  process.exit(0);
}
const figures: Record<string, number> = {};
for (const [name, p] of Object.entries(MATMUL_PRESETS)) {
  const session = await ort.InferenceSession.create(createMatmulModel(p), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const x = createMatmulInput(p.batch, p.size, 1);
  const feeds = {
    x: new ort.Tensor('float32', new Float32Array(x.data.buffer), [p.batch, p.size]),
  };
  for (let i = 0; i < 5; i++) await session.run(feeds);
  const runs = p.layers > 50 ? 50 : 500;
  const start = performance.now();
  for (let i = 0; i < runs; i++) await session.run(feeds);
  figures[`${name}Ms`] = Number(((performance.now() - start) / runs).toFixed(4));
  console.log(`${name}: ${figures[`${name}Ms`]} ms/task (${runs} runs)`);
  await session.release();
}
console.log(JSON.stringify(figures));

/**
 * Local reference for the MNIST sample: the same digits through the same
 * model on onnxruntime-web's WASM build in Node (bitwise the WASM the page
 * runs). Prints one JSON line: {digits, batch, logits, labels, truth}.
 *   node --import tsx e2e/harness/reference-cli.ts DIGITS BATCH
 */
import { tensorValues } from '@peergrid/shared';
import { createNodeExecutor } from '../../node-worker/src/exec/index.ts';
import { createMnistJob, loadMnistFixtures } from '../../node-worker/src/workloads/index.ts';

const [digits, batch] = process.argv.slice(2).map(Number);
if (!digits || !batch) {
  process.stderr.write('usage: reference-cli.ts DIGITS BATCH\n');
  process.exit(2);
}
const fixtures = loadMnistFixtures();
const job = createMnistJob({ fixtures, batchSize: batch, limit: digits });
const executor = createNodeExecutor({ backend: 'wasm', concurrency: 1 });
try {
  const out = await job.reference(executor, { backend: 'wasm' });
  const logits: number[] = [];
  const labels: number[] = [];
  for (const t of job.spec.tasks) {
    const o = out.get(t.id);
    if (!o?.logits || !o.label) throw new Error(`reference: task ${t.id} has no logits/label`);
    logits.push(...Array.from(tensorValues(o.logits) as Float32Array));
    labels.push(...Array.from(tensorValues(o.label) as BigInt64Array, Number));
  }
  const truth = Array.from(tensorValues(fixtures.labels) as Uint8Array).slice(0, digits);
  process.stdout.write(`${JSON.stringify({ digits, batch, logits, labels, truth })}\n`);
} finally {
  await executor.close();
}
process.exit(0);

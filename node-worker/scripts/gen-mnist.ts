/**
 * Trains the MNIST MLP (seeded, deterministic) and writes the fixtures the
 * tests and the web page's sample job use:
 *   fixtures/mnist-mlp.onnx            the classifier (uint8 pixels → logits, label)
 *   fixtures/mnist-test-1000.npy       uint8 [1000, 784] held-out digits
 *   fixtures/mnist-test-1000-labels.npy uint8 [1000] their labels
 * Usage: npm run -w node-worker gen:mnist [-- --epochs N] [--help]
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tensorFrom } from '@peergrid/shared';
import { encodeNpy } from '../src/inputs/npy.ts';
import { trainMlp } from '../src/workloads/mlp-train.ts';
import { loadMnistDigits, MNIST_PIXELS } from '../src/workloads/mnist-data.ts';
import { createMnistModel } from '../src/workloads/mnist-model.ts';
import { modelHash } from '../src/workloads/onnx-builder.ts';

if (process.argv.includes('--help')) {
  console.log(
    'gen-mnist [--epochs N]: trains the MNIST MLP and writes node-worker/fixtures/mnist-*',
  );
  process.exit(0);
}
const epochsArg = process.argv.indexOf('--epochs');
const epochs = epochsArg > 0 ? Number(process.argv[epochsArg + 1]) : 8;
const fixtures = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

const { train, test } = loadMnistDigits(100);
console.log(`training on ${train.count} digits, ${epochs} epochs`);
const weights = trainMlp(train, {
  epochs,
  onEpoch: (e, loss) => console.log(`epoch ${e + 1}/${epochs}: loss ${loss.toFixed(4)}`),
});
const model = createMnistModel(weights);
writeFileSync(fixtures('mnist-mlp.onnx'), model);
writeFileSync(
  fixtures('mnist-test-1000.npy'),
  encodeNpy(tensorFrom('uint8', [test.count, MNIST_PIXELS], test.pixels)),
);
writeFileSync(
  fixtures('mnist-test-1000-labels.npy'),
  encodeNpy(tensorFrom('uint8', [test.count], test.labels)),
);
console.log(`wrote mnist-mlp.onnx (${model.byteLength} bytes, sha256 ${modelHash(model)})`);

/**
 * The `mnist` package's digits (about 10,000 real MNIST images) as uint8
 * pixels, split deterministically: the first `testPerDigit` samples of each
 * digit are the test set, interleaved 0,1,…,9,0,1,…; the rest train.
 */
import { createRequire } from 'node:module';

/** Images as uint8 rows of 784 pixels (0 = background) with their labels. */
export interface DigitSet {
  readonly count: number;
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;
}

export const MNIST_PIXELS = 784;

const require = createRequire(import.meta.url);

function loadDigit(d: number): Uint8Array {
  const raw = (require(`mnist/src/digits/${d}.json`) as { data: number[] }).data;
  return Uint8Array.from(raw, (v) => Math.round(v * 255));
}

/** Loads and splits the digits. Default 100 test samples per digit. */
export function loadMnistDigits(testPerDigit = 100): {
  readonly train: DigitSet;
  readonly test: DigitSet;
} {
  const digits = Array.from({ length: 10 }, (_, d) => loadDigit(d));
  const counts = digits.map((px) => Math.floor(px.length / MNIST_PIXELS));
  const testCount = testPerDigit * 10;
  const trainCount = counts.reduce((a, c) => a + c - testPerDigit, 0);
  const test = {
    count: testCount,
    pixels: new Uint8Array(testCount * MNIST_PIXELS),
    labels: new Uint8Array(testCount),
  };
  const train = {
    count: trainCount,
    pixels: new Uint8Array(trainCount * MNIST_PIXELS),
    labels: new Uint8Array(trainCount),
  };
  for (let i = 0; i < testPerDigit; i++) {
    for (let d = 0; d < 10; d++) {
      const row = i * 10 + d;
      test.pixels.set(
        (digits[d] as Uint8Array).subarray(i * MNIST_PIXELS, (i + 1) * MNIST_PIXELS),
        row * MNIST_PIXELS,
      );
      test.labels[row] = d;
    }
  }
  let row = 0;
  for (let d = 0; d < 10; d++) {
    for (let i = testPerDigit; i < (counts[d] as number); i++, row++) {
      train.pixels.set(
        (digits[d] as Uint8Array).subarray(i * MNIST_PIXELS, (i + 1) * MNIST_PIXELS),
        row * MNIST_PIXELS,
      );
      train.labels[row] = d;
    }
  }
  return { train, test };
}

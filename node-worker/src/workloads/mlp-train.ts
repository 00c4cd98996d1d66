/**
 * A one-hidden-layer MLP (ReLU, softmax cross-entropy) trained with
 * minibatch SGD + momentum in plain TypeScript. Seeded, single-threaded and
 * in a fixed order, so the same seed gives the same weights bit for bit.
 */
import type { DigitSet } from './mnist-data.ts';
import { createSeededRandom } from './onnx-builder.ts';

/** Row-major weights: w1 [inputs, hidden], b1 [hidden], w2 [hidden, classes], b2 [classes]. */
export interface MlpWeights {
  readonly inputs: number;
  readonly hidden: number;
  readonly classes: number;
  readonly w1: Float32Array;
  readonly b1: Float32Array;
  readonly w2: Float32Array;
  readonly b2: Float32Array;
}

/** Options of {@link trainMlp}. */
export interface TrainOptions {
  /** Hidden units. Default 64. */
  readonly hidden?: number;
  /** Passes over the training set. Default 8. */
  readonly epochs?: number;
  /** Default 32. */
  readonly batchSize?: number;
  /** Learning rate. Default 0.05 (momentum 0.9). */
  readonly learningRate?: number;
  /** Default 42. */
  readonly seed?: number;
  /** Called after each epoch (progress). */
  readonly onEpoch?: (epoch: number, loss: number) => void;
}

export function trainMlp(data: DigitSet, options: TrainOptions = {}): MlpWeights {
  const inputs = data.pixels.length / data.count;
  const hidden = options.hidden ?? 64;
  const classes = 10;
  const batchSize = options.batchSize ?? 32;
  const lr = options.learningRate ?? 0.05;
  const random = createSeededRandom(options.seed ?? 42);
  const init = (n: number, fanIn: number) =>
    Float32Array.from({ length: n }, () => (random() * 2 - 1) * Math.sqrt(6 / fanIn));
  const w = {
    w1: init(inputs * hidden, inputs),
    b1: new Float32Array(hidden),
    w2: init(hidden * classes, hidden),
    b2: new Float32Array(classes),
  };
  const grad = {
    w1: new Float32Array(w.w1.length),
    b1: new Float32Array(hidden),
    w2: new Float32Array(w.w2.length),
    b2: new Float32Array(classes),
  };
  const vel = {
    w1: new Float32Array(w.w1.length),
    b1: new Float32Array(hidden),
    w2: new Float32Array(w.w2.length),
    b2: new Float32Array(classes),
  };
  const x = new Float32Array(inputs);
  const h = new Float32Array(hidden);
  const out = new Float32Array(classes);
  const dh = new Float32Array(hidden);
  const order = Array.from({ length: data.count }, (_, i) => i);
  for (let epoch = 0; epoch < (options.epochs ?? 8); epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    let loss = 0;
    for (let start = 0; start < order.length; start += batchSize) {
      const end = Math.min(start + batchSize, order.length);
      for (const g of Object.values(grad)) g.fill(0);
      for (let b = start; b < end; b++) {
        const n = order[b] as number;
        for (let k = 0; k < inputs; k++) x[k] = (data.pixels[n * inputs + k] as number) / 255;
        h.set(w.b1);
        for (let k = 0; k < inputs; k++) {
          const xv = x[k] as number;
          if (xv === 0) continue;
          const row = k * hidden;
          for (let j = 0; j < hidden; j++) h[j] = (h[j] as number) + xv * (w.w1[row + j] as number);
        }
        for (let j = 0; j < hidden; j++) if ((h[j] as number) < 0) h[j] = 0;
        out.set(w.b2);
        for (let j = 0; j < hidden; j++) {
          for (let c = 0; c < classes; c++)
            out[c] = (out[c] as number) + (h[j] as number) * (w.w2[j * classes + c] as number);
        }
        const max = Math.max(...out);
        let sum = 0;
        for (let c = 0; c < classes; c++) sum += Math.exp((out[c] as number) - max);
        const label = data.labels[n] as number;
        loss += -((out[label] as number) - max - Math.log(sum));
        for (let c = 0; c < classes; c++)
          out[c] = Math.exp((out[c] as number) - max) / sum - (c === label ? 1 : 0);
        dh.fill(0);
        for (let j = 0; j < hidden; j++) {
          for (let c = 0; c < classes; c++) {
            grad.w2[j * classes + c] =
              (grad.w2[j * classes + c] as number) + (h[j] as number) * (out[c] as number);
            dh[j] = (dh[j] as number) + (w.w2[j * classes + c] as number) * (out[c] as number);
          }
          if ((h[j] as number) <= 0) dh[j] = 0;
        }
        for (let c = 0; c < classes; c++) grad.b2[c] = (grad.b2[c] as number) + (out[c] as number);
        for (let j = 0; j < hidden; j++) grad.b1[j] = (grad.b1[j] as number) + (dh[j] as number);
        for (let k = 0; k < inputs; k++) {
          const xv = x[k] as number;
          if (xv === 0) continue;
          const row = k * hidden;
          for (let j = 0; j < hidden; j++)
            grad.w1[row + j] = (grad.w1[row + j] as number) + xv * (dh[j] as number);
        }
      }
      const step = lr / (end - start);
      for (const key of ['w1', 'b1', 'w2', 'b2'] as const) {
        const [p, g, v] = [w[key], grad[key], vel[key]];
        for (let i = 0; i < p.length; i++) {
          v[i] = 0.9 * (v[i] as number) - step * (g[i] as number);
          p[i] = (p[i] as number) + (v[i] as number);
        }
      }
    }
    options.onEpoch?.(epoch, loss / order.length);
  }
  return { inputs, hidden, classes, ...w };
}

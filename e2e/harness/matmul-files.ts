/**
 * A matmul job on disk for `peergrid run --model … --inputs …`: a model of
 * `layers` MatMul+Tanh rounds on `size`-wide rows, and an input .npy of
 * `tasks × rows` seeded rows (`--batch rows` makes one task of each block).
 * Compute per task grows with rows·size²·layers and the model with
 * size²·layers, so narrow deep models give long tasks that are cheap to ship.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNpy } from '@peergrid/shared';
import { createMatmulInput, createMatmulModel } from '../../node-worker/src/workloads/index.ts';

export interface MatmulFiles {
  readonly model: string;
  readonly inputs: string;
  /** The CLI's job flags for these files. */
  readonly args: readonly string[];
}

export function writeMatmulFiles(
  dir: string,
  o: { size: number; layers: number; rows: number; tasks: number },
): MatmulFiles {
  const model = join(dir, 'matmul.onnx');
  const inputs = join(dir, 'x.npy');
  writeFileSync(model, createMatmulModel({ size: o.size, layers: o.layers }));
  writeFileSync(inputs, encodeNpy(createMatmulInput(o.rows * o.tasks, o.size, 1)));
  return { model, inputs, args: ['--model', model, '--inputs', inputs, '--batch', String(o.rows)] };
}

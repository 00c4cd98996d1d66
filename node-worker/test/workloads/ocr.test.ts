import { type Tensor, tensorValues } from '@peergrid/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { createNodeExecutor } from '../../src/exec/node-executor.ts';
import { loadImageFolder } from '../../src/inputs/images.ts';
import { probabilityMapToBoxes } from '../../src/workloads/ocr-boxes.ts';
import {
  createOcrJob,
  OCR_DET_OUTPUT,
  OCR_FIXTURE_DIR,
  ocrBoxes,
} from '../../src/workloads/ocr-job.ts';

describe('OCR text detection workload', () => {
  const ex = createNodeExecutor({ backend: 'cpu', concurrency: 1 });
  afterAll(() => ex.close());

  it('finds the text lines of a fixture image', async () => {
    const images = (await loadImageFolder(OCR_FIXTURE_DIR)).filter((i) => i.name === 'sign.png');
    expect(images).toHaveLength(1);
    const job = createOcrJob({ images });
    const out = await job.reference(ex);
    const img = images[0] as (typeof images)[number];
    const map = out.get('ocr-sign.png')?.[OCR_DET_OUTPUT] as Tensor;
    expect(map.dims).toEqual([1, 1, ...img.input.tensor.dims.slice(2)]);
    const boxes = ocrBoxes(map, img.input);
    expect(boxes.length).toBeGreaterThanOrEqual(1);
    for (const b of boxes) {
      expect(b.score).toBeGreaterThan(0.6);
      expect(b.x + b.width).toBeLessThanOrEqual(img.input.width + 1);
      expect(b.y + b.height).toBeLessThanOrEqual(img.input.height + 1);
    }
    // Two drawn lines: every box lies within the text rows, none in the blank margin.
    expect(Math.min(...boxes.map((b) => b.y))).toBeGreaterThan(5);
  });

  it('turns a probability map into one box per blob', () => {
    const w = 20;
    const h = 10;
    const p = new Float32Array(w * h);
    for (let y = 2; y < 5; y++) for (let x = 2; x < 8; x++) p[y * w + x] = 0.9;
    for (let y = 6; y < 9; y++) for (let x = 12; x < 18; x++) p[y * w + x] = 0.8;
    p[0] = 0.9; // a single speck is dropped
    const map = { dtype: 'float32', dims: [1, 1, h, w], data: new Uint8Array(p.buffer) } as const;
    const boxes = probabilityMapToBoxes(map, { unclipRatio: 0 });
    expect(boxes.map(({ x, y, width, height }) => [x, y, width, height])).toEqual([
      [2, 2, 6, 3],
      [12, 6, 6, 3],
    ]);
    expect(tensorValues(map).length).toBe(200);
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensorFrom, tensorValues } from '@peergrid/shared';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import {
  decodeImage,
  encodePng,
  imageToDetTensor,
  loadImageFolder,
} from '../../src/inputs/images.ts';
import { parseJsonTensor } from '../../src/inputs/json-tensor.ts';
import { loadTensorFile } from '../../src/inputs/load-tensor.ts';
import { encodeNpy } from '../../src/inputs/npy.ts';

describe('JSON tensors', () => {
  it('reads the forms the page reads, from the shared parser', () => {
    const nested = parseJsonTensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    if (!nested.ok) throw new Error(nested.error);
    expect(nested.tensor.dims).toEqual([2, 3]);
    expect([...(tensorValues(nested.tensor) as Float32Array)]).toEqual([1, 2, 3, 4, 5, 6]);
    const typed = parseJsonTensor({ dtype: 'int64', shape: [3], data: [1, -2, 3] });
    if (!typed.ok) throw new Error(typed.error);
    expect([...(tensorValues(typed.tensor) as BigInt64Array)]).toEqual([1n, -2n, 3n]);
    expect(parseJsonTensor({ dims: [2, 2], data: [[1, 2], [3]] }).ok).toBe(false);
    expect(parseJsonTensor({ dtype: 'complex', dims: [1], data: [1] }).ok).toBe(false);
  });
});

describe('images', () => {
  const gradient = { width: 50, height: 70, data: new Uint8Array(50 * 70 * 4) };
  for (let i = 0; i < 50 * 70; i++) gradient.data.set([i % 50, 100, 200, 255], i * 4);

  it('decodes PNG and JPEG and makes NCHW BGR tensors sized to multiples of 32', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pg-img-'));
    try {
      await writeFile(join(dir, 'a.png'), encodePng(gradient));
      const jpg = jpeg.encode({ ...gradient, data: Buffer.from(gradient.data) }, 95).data;
      await writeFile(join(dir, 'b.jpg'), jpg);
      await writeFile(join(dir, 'notes.txt'), 'ignored');
      const loaded = await loadImageFolder(dir);
      expect(loaded.map((l) => l.name)).toEqual(['a.png', 'b.jpg']);
      for (const { input } of loaded) {
        expect(input.tensor.dtype).toBe('float32');
        expect(input.tensor.dims).toEqual([1, 3, 64, 64]);
        expect([input.width, input.height]).toEqual([50, 70]);
      }
      const v = tensorValues((loaded[0] as (typeof loaded)[number]).input.tensor) as Float32Array;
      // Channel 0 is blue (200), normalized with PaddleOCR's first mean/std.
      expect(v[0]).toBeCloseTo((200 / 255 - 0.485) / 0.229, 4);
      expect(v[64 * 64]).toBeCloseTo((100 / 255 - 0.456) / 0.224, 4);
      expect(decodeImage(new Uint8Array([1, 2, 3, 4]))).toBeNull();
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('caps the longer side', () => {
    const big = { width: 2000, height: 100, data: new Uint8Array(2000 * 100 * 4) };
    const det = imageToDetTensor(big, { limitSideLen: 960 });
    expect(det.tensor.dims).toEqual([1, 3, 64, 960]);
    expect(det.scaleX).toBeCloseTo(2000 / 960);
  });
});

describe('tensor files', () => {
  it('loads .npy and .json by extension and names the file on failure', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pg-tensor-'));
    try {
      const t = tensorFrom('int32', [3], new Int32Array([7, 8, 9]));
      await writeFile(join(dir, 'a.npy'), encodeNpy(t));
      await writeFile(
        join(dir, 'b.json'),
        JSON.stringify({ dtype: 'int32', dims: [3], data: [7, 8, 9] }),
      );
      await writeFile(join(dir, 'bad.json'), '{"dims": [2], "data": [1]}');
      await writeFile(join(dir, 'c.csv'), '1,2');
      expect(await loadTensorFile(join(dir, 'a.npy'))).toEqual(t);
      expect(await loadTensorFile(join(dir, 'b.json'))).toEqual(t);
      await expect(loadTensorFile(join(dir, 'bad.json'))).rejects.toThrow(/bad\.json/);
      await expect(loadTensorFile(join(dir, 'c.csv'))).rejects.toThrow(/unsupported/);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});

/** The shared OCR pieces: boxes scaled to their image, crops cut from RGB or RGBA pixels alike, CTC decoding. */
import { describe, expect, it } from 'vitest';
import { ctcDecode, parseKeyFile } from '../../src/ocr/ctc.ts';
import { cropBoxes, imageSize, recCrops } from '../../src/ocr/ocr-crops.ts';
import { tensorFrom, tensorValues } from '../../src/tensor.ts';

/** A 20 × 40 image, white but for a dark bar (rows 6–13, cols 8–31), in `channels` channels. */
function image(channels: 3 | 4) {
  const px = new Uint8Array(20 * 40 * channels).fill(255);
  for (let y = 6; y < 14; y++)
    for (let x = 8; x < 32; x++)
      for (let c = 0; c < 3; c++) px[(y * 40 + x) * channels + c] = 10 * (c + 1);
  return tensorFrom('uint8', [20, 40, channels], px);
}

/** A detection map at half the image's size with the bar's middle lit. */
const map = (() => {
  const m = new Float32Array(10 * 20);
  for (let y = 4; y < 6; y++) for (let x = 5; x < 15; x++) m[y * 20 + x] = 0.95;
  return tensorFrom('float32', [1, 1, 10, 20], m);
})();

describe('ocr crops', () => {
  it('finds the box in image pixels (the map scaled ×2, grown back) and cuts the same crop from RGB and RGBA', () => {
    const rgb = image(3);
    const [box, ...rest] = cropBoxes('a', rgb, map);
    expect(rest).toEqual([]);
    expect(box).toMatchObject({ image: 'a' });
    expect(box!.x).toBeLessThanOrEqual(10);
    expect(box!.x + box!.width).toBeGreaterThanOrEqual(30);
    expect(box!.y + box!.height).toBeLessThanOrEqual(20);
    const size = { height: 8, width: 32 };
    const a = recCrops(new Map([['a', rgb]]), [box!], size);
    const b = recCrops(new Map([['a', image(4)]]), cropBoxes('a', image(4), map), size);
    expect(a.dims).toEqual([1, 3, 8, 32]);
    expect(tensorValues(a)).toEqual(tensorValues(b));
    // Channel 0 is blue (BGR): the bar's blue is 30 → (30/255 − 0.5)/0.5; the padding stays 0.
    const v = tensorValues(a) as Float32Array;
    expect(Math.min(...v.slice(0, 8 * 32))).toBeCloseTo((30 / 255 - 0.5) / 0.5, 5);
    expect(v[8 * 32 - 1]).toBe(0);
  });

  it('refuses tensors that are not images', () => {
    expect(imageSize(tensorFrom('float32', [2, 2, 3], new Float32Array(12)))).toMatch(/uint8/);
    expect(imageSize(tensorFrom('uint8', [2, 2], new Uint8Array(4)))).toMatch(/\[H, W, 3\]/);
    expect(() => cropBoxes('g', tensorFrom('uint8', [2, 2], new Uint8Array(4)), map)).toThrow(
      /image g/,
    );
  });
});

describe('CTC decoding', () => {
  it('collapses repeats, drops blanks, reads C − 1 as a space, trims', () => {
    const keys = parseKeyFile('A\r\nB\r\n');
    expect(keys).toEqual(['A', 'B']);
    // Classes: 0 blank, 1 A, 2 B, 3 (past the keys) a space.
    const steps = [1, 1, 0, 1, 3, 2, 2, 3];
    const p = new Float32Array(steps.length * 4);
    steps.forEach((c, t) => {
      p[t * 4 + c] = 1;
    });
    expect(ctcDecode(tensorFrom('float32', [1, steps.length, 4], p), keys)).toBe('AA B');
    expect(() => ctcDecode(tensorFrom('int32', [1, 1, 1], new Int32Array(1)), keys)).toThrow(
      /float32/,
    );
    expect(parseKeyFile('')).toEqual([]);
  });
});

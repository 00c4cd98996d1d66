import { describe, expect, it } from 'vitest';
import { findTextRegions } from '../../src/ocr/text-boxes.ts';
import { tensorFrom } from '../../src/tensor.ts';

/** A float32 [1, 1, H, W] map from rows of digits (tenths) and dots (0). */
function drawMap(rows: readonly string[]) {
  const w = rows[0]?.length ?? 0;
  const values = Float32Array.from(rows.join(''), (c) => (c === '.' ? 0 : Number(c) / 10));
  return tensorFrom('float32', [1, 1, rows.length, w], values);
}

describe('findTextRegions', () => {
  it('finds 4-connected regions above the threshold with their bounds and mean score', () => {
    // Digits are tenths of probability; '.' is 0. The '9' at (8, 5) touches the
    // first block only diagonally, so it is a region of its own.
    const map = drawMap([
      '...................5',
      '....................',
      '..999999............',
      '..999999............',
      '..999999............',
      '........9...........',
      '............777777..',
      '............777777..',
      '............777777..',
      '....................',
    ]);
    const regions = findTextRegions(map, 0.3);
    expect(regions.map(({ score, ...r }) => r)).toEqual([
      { minX: 19, minY: 0, maxX: 19, maxY: 0, pixels: 1 },
      { minX: 2, minY: 2, maxX: 7, maxY: 4, pixels: 18 },
      { minX: 8, minY: 5, maxX: 8, maxY: 5, pixels: 1 },
      { minX: 12, minY: 6, maxX: 17, maxY: 8, pixels: 18 },
    ]);
    expect(regions.map((r) => r.score)).toEqual([0.5, 0.9, 0.9, 0.7].map(Math.fround));
  });

  it('treats the threshold as exclusive and averages uneven regions', () => {
    // 0.5 is exact in float32, so the pixels equal to it sit on the threshold.
    const p = new Float32Array([0.5, 0.625, 0.75, 0, 0.5, 0.875]);
    const regions = findTextRegions(tensorFrom('float32', [2, 3], p), 0.5);
    expect(regions).toHaveLength(1);
    expect(regions[0]).toMatchObject({ minX: 1, minY: 0, maxX: 2, maxY: 1, pixels: 3 });
    expect(regions[0]?.score).toBe(0.75);
    expect(findTextRegions(tensorFrom('float32', [1, 1, 2, 3], new Float32Array(6)), 0)).toEqual(
      [],
    );
  });
});

import { tensorFrom } from '@peergrid/shared';
import { describe, expect, it } from 'vitest';
import { toCsv } from '../src/lib/csv.ts';
import { formatBytes, formatMs, shortId } from '../src/lib/format.ts';
import { accuracy, predictions } from '../src/lib/labels.ts';
import { textBoxes } from '../src/lib/text-boxes.ts';

describe('predictions', () => {
  it('takes the argmax of each row with a softmax confidence', () => {
    const scores = tensorFrom('float32', [2, 3], new Float32Array([0, 5, 0, 2, 2, 10]));
    const p = predictions(scores);
    expect(p.map((x) => x.label)).toEqual([1, 2]);
    expect(p[0]!.confidence).toBeCloseTo(Math.exp(5) / (Math.exp(5) + 2), 6);
    expect(accuracy(p, [1, 0])).toBe(0.5);
    expect(accuracy(p, [])).toBeNull();
  });
});

describe('textBoxes', () => {
  it('finds separate regions above the threshold and scales them', () => {
    const w = 20;
    const h = 10;
    const map = new Float32Array(w * h);
    const fill = (x0: number, y0: number, x1: number, y1: number) => {
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) map[y * w + x] = 0.9;
    };
    fill(1, 1, 8, 4); // 21 px
    fill(12, 5, 19, 9); // 28 px
    map[0 * w + 19] = 0.9; // a speck, below minArea
    const boxes = textBoxes(tensorFrom('float32', [1, 1, h, w], map), { scaleX: 2, scaleY: 2 });
    expect(boxes).toHaveLength(2);
    const [a, b] = boxes;
    expect(a!.x).toBeLessThanOrEqual(2);
    expect(a!.x + a!.w).toBeGreaterThanOrEqual(16);
    expect(b!.y).toBeLessThanOrEqual(10);
    expect(b!.y + b!.h).toBeGreaterThanOrEqual(18);
    expect(a!.score).toBeCloseTo(0.9, 5);
  });
  it('drops faint regions', () => {
    const map = new Float32Array(100).fill(0.35);
    expect(textBoxes(tensorFrom('float32', [1, 1, 10, 10], map))).toEqual([]);
  });
});

describe('formatting', () => {
  it('writes CSV with quoting', () => {
    expect(
      toCsv([
        ['a', 'b,c'],
        [1, 'say "hi"'],
      ]),
    ).toBe('a,"b,c"\r\n1,"say ""hi"""\r\n');
  });
  it('formats figures for people', () => {
    expect(formatMs(250)).toBe('250 ms');
    expect(formatMs(1500)).toBe('1.50 s');
    expect(formatMs(125_000)).toBe('2 min 5 s');
    expect(formatBytes(2048)).toBe('2.0 KiB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MiB');
    expect(shortId('abcdefghijklmnopqrstuvwxyz')).toBe('abcdef…wxyz');
    expect(shortId('short')).toBe('short');
  });
});

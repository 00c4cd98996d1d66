/**
 * A 5×7 bitmap font (upper-case letters, digits, a few marks) to draw text
 * into images deterministically, so OCR fixtures need no font files.
 */
import type { RgbaImage } from '../inputs/images.ts';

// Each glyph: 7 rows of 5 columns, '#' = ink.
const GLYPHS: Readonly<Record<string, string>> = {
  A: '.###.#...##...#######...##...##...#',
  B: '####.#...##...#####.#...##...#####.',
  C: '.###.#...##....#....#....#...#.###.',
  D: '####.#...##...##...##...##...#####.',
  E: '######....#....####.#....#....#####',
  F: '######....#....####.#....#....#....',
  G: '.###.#...##....#.####...##...#.####',
  H: '#...##...##...#######...##...##...#',
  I: '.###...#....#....#....#....#...###.',
  J: '..###...#....#....#....#.#..#..##..',
  K: '#...##..#.#.#..##...#.#..#..#.#...#',
  L: '#....#....#....#....#....#....#####',
  M: '#...###.###.#.##...##...##...##...#',
  N: '#...###..##.#.##..###...##...##...#',
  O: '.###.#...##...##...##...##...#.###.',
  P: '####.#...##...#####.#....#....#....',
  Q: '.###.#...##...##...##.#.##..#..##.#',
  R: '####.#...##...#####.#.#..#..#.#...#',
  S: '.#####....#.....###.....#....#####.',
  T: '#####..#....#....#....#....#....#..',
  U: '#...##...##...##...##...##...#.###.',
  V: '#...##...##...##...##...#.#.#...#..',
  W: '#...##...##...##.#.##.#.##.#.#.#.#.',
  X: '#...##...#.#.#...#...#.#.#...##...#',
  Y: '#...##...#.#.#...#....#....#....#..',
  Z: '#####....#...#...#...#...#....#####',
  '0': '.###.#...##..###.#.###..##...#.###.',
  '1': '..#...##....#....#....#....#...###.',
  '2': '.###.#...#....#...#...#...#...#####',
  '3': '####.....#....#.###.....#....#####.',
  '4': '...#...##..#.#.#..#.#####...#....#.',
  '5': '######....####.....#....##...#.###.',
  '6': '.###.#....#....####.#...##...#.###.',
  '7': '#####....#...#...#...#....#....#...',
  '8': '.###.#...##...#.###.#...##...#.###.',
  '9': '.###.#...##...#.####....#....#.###.',
  '.': '..........................##...##..',
  '-': '...............#####...............',
  ' ': '...................................',
};

/** Options of {@link renderText}. */
export interface RenderTextOptions {
  /** Pixels per font dot. Default 4. */
  readonly scale?: number;
  /** Blank margin around the text, pixels. Default 24. */
  readonly margin?: number;
  /** Blank rows between lines, in dots. Default 5. */
  readonly lineGap?: number;
}

/** Draws lines of text (unknown characters as blanks), black on white, into an RGBA image. */
export function renderText(lines: readonly string[], options: RenderTextOptions = {}): RgbaImage {
  const scale = options.scale ?? 4;
  const margin = options.margin ?? 24;
  const lineGap = options.lineGap ?? 5;
  const cols = Math.max(...lines.map((l) => l.length), 1);
  const width = margin * 2 + cols * 6 * scale;
  const height = margin * 2 + lines.length * (7 + lineGap) * scale - lineGap * scale;
  const data = new Uint8Array(width * height * 4).fill(255);
  lines.forEach((line, row) => {
    [...line.toUpperCase()].forEach((ch, col) => {
      const glyph = GLYPHS[ch] ?? GLYPHS[' '] ?? '';
      for (let i = 0; i < 35; i++) {
        if (glyph[i] !== '#') continue;
        const gx = margin + (col * 6 + (i % 5)) * scale;
        const gy = margin + (row * (7 + lineGap) + Math.floor(i / 5)) * scale;
        for (let y = gy; y < gy + scale; y++) {
          for (let x = gx; x < gx + scale; x++)
            data.fill(20, (y * width + x) * 4, (y * width + x) * 4 + 3);
        }
      }
    });
  });
  return { width, height, data };
}

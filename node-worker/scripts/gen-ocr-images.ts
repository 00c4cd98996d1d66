/**
 * Draws the OCR sample images (bitmap-font text, deterministic) into
 * node-worker/fixtures/ocr/*.png. Usage: npm run -w node-worker gen:ocr [-- --help]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodePng } from '../src/inputs/images.ts';
import { renderText } from '../src/workloads/bitmap-font.ts';
import { OCR_FIXTURE_DIR } from '../src/workloads/ocr-job.ts';

if (process.argv.includes('--help')) {
  console.log(
    'gen-ocr-images: writes node-worker/fixtures/ocr/*.png (text drawn with a 5x7 bitmap font)',
  );
  process.exit(0);
}
const samples: Record<string, { lines: string[]; scale: number }> = {
  'receipt.png': {
    lines: ['PEERGRID CAFE', 'COFFEE      3.50', 'BAGEL       2.25', 'TOTAL       5.75'],
    scale: 3,
  },
  'sign.png': { lines: ['VOLUNTEER', 'COMPUTE GRID'], scale: 6 },
  'page.png': { lines: ['THE QUICK BROWN FOX', 'JUMPS OVER THE LAZY DOG', '0123456789'], scale: 2 },
};
mkdirSync(OCR_FIXTURE_DIR, { recursive: true });
for (const [name, s] of Object.entries(samples)) {
  const png = encodePng(renderText(s.lines, { scale: s.scale }));
  writeFileSync(join(OCR_FIXTURE_DIR, name), png);
  console.log(`${name}: ${png.byteLength} bytes, ${s.lines.length} lines`);
}

import { describe, expect, it } from 'vitest';
import { utf8, utf8Loop } from '../../src/job/utf8.ts';

describe('utf8', () => {
  it('gives the same bytes with TextEncoder and without, for every width of code point', () => {
    for (const s of [
      '',
      'abc',
      'é',
      '€ 1',
      '𝄞 clef',
      'mixed ü€𝄞 text',
      'lone \ud800 surrogate',
      'x'.repeat(1000),
    ]) {
      expect([...utf8(s)]).toEqual([...utf8Loop(s)]);
    }
    expect([...utf8('é€𝄞')]).toEqual([0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9d, 0x84, 0x9e]);
  });
});

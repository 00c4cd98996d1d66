import { describe, expect, it } from 'vitest';
import { formatTime } from '../src/lib/format.ts';
import { memoByObject } from '../src/lib/memo.ts';

describe('memoByObject', () => {
  it('computes once per object and again for a new object', () => {
    let calls = 0;
    const double = memoByObject((o: { n: number }) => {
      calls++;
      return o.n * 2;
    });
    const a = { n: 2 };
    expect(double(a)).toBe(4);
    expect(double(a)).toBe(4);
    expect(calls).toBe(1);
    expect(double({ n: 2 })).toBe(4);
    expect(calls).toBe(2);
  });

  it('remembers undefined results too', () => {
    let calls = 0;
    const none = memoByObject((_: object) => {
      calls++;
      return undefined;
    });
    const k = {};
    none(k);
    none(k);
    expect(calls).toBe(1);
  });
});

describe('formatTime', () => {
  it('reads as the locale time with seconds', () => {
    const at = Date.UTC(2026, 10, 22, 14, 3, 7);
    expect(formatTime(at)).toBe(
      new Date(at).toLocaleTimeString([], {
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      }),
    );
    expect(formatTime(at)).toMatch(/07/);
  });
});

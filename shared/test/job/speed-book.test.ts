import { describe, expect, it } from 'vitest';
import { createSpeedBook } from '../../src/job/speed-book.ts';

describe('speed book', () => {
  it('measures per donor and model with an EWMA; the measured time wins over the claim', () => {
    const b = createSpeedBook({ ewma: 0.5 });
    b.advertise('liar', 1000); // claims 1000 tasks/s
    expect(b.measured('liar', 'm')).toBe(false);
    b.observe('liar', 'm', 400);
    expect(b.measured('liar', 'm')).toBe(true);
    expect(b.taskMs('liar', 'm')).toBe(400); // its first result sets it, whatever it claimed
    b.observe('liar', 'm', 200);
    expect(b.taskMs('liar', 'm')).toBe(300);
    // Another model is measured apart.
    expect(b.measured('liar', 'other')).toBe(false);
    b.observe('liar', 'other', 5);
    expect(b.taskMs('liar', 'other')).toBe(5);
    expect(b.taskMs('liar', 'm')).toBe(300);
  });

  it('turns an unmeasured claim into a time by the measured claimants, within claimLimit of typical', () => {
    const b = createSpeedBook({ claimLimit: 10 });
    b.advertise('a', 10); // 10 tasks/s on the self-test model
    b.observe('a', 'm', 50); // 50 ms on this job's model: scale 500 ms·tasks/s
    b.advertise('gpu', 40);
    expect(b.taskMs('gpu', 'm')).toBeCloseTo(12.5); // 4x the claim of a: a quarter of its time
    b.advertise('huge', 1e6);
    expect(b.taskMs('huge', 'm')).toBeCloseTo(5); // at most 10x faster than typical (50 ms)
    b.advertise('phone', 0.001);
    expect(b.taskMs('phone', 'm')).toBeCloseTo(500); // and at most 10x slower
    // No claim, or nothing measured on the model: the typical time, then the default.
    expect(b.taskMs('silent', 'm')).toBe(50);
    expect(b.taskMs('gpu', 'fresh')).toBe(1000);
  });

  it('takes the slower of reported compute and measured service time', () => {
    const b = createSpeedBook({ ewma: 0.5 });
    // Reports 1 ms per task but returns a result every 100 ms (under-reports, or idles between tasks).
    b.observe('d', 'm', 1);
    b.observe('d', 'm', 1, 100);
    expect(b.taskMs('d', 'm')).toBe(100);
    b.observe('d', 'm', 1, 60);
    expect(b.taskMs('d', 'm')).toBe(80);
    // A slow reported compute time is not made faster by results that came in a burst.
    b.observe('e', 'm', 50, 10);
    expect(b.taskMs('e', 'm')).toBe(50);
  });

  it('ignores nonsense: negative or non-finite times, and withdrawn claims', () => {
    const b = createSpeedBook();
    b.observe('d', 'm', -1);
    b.observe('d', 'm', Number.NaN);
    expect(b.measured('d', 'm')).toBe(false);
    b.advertise('c', 5);
    b.observe('c', 'm', 100);
    b.advertise('x', 50);
    expect(b.taskMs('x', 'm')).toBeCloseTo(10);
    b.advertise('x', undefined);
    expect(b.taskMs('x', 'm')).toBe(100);
    b.advertise('x', Number.POSITIVE_INFINITY);
    expect(b.taskMs('x', 'm')).toBe(100);
  });
});

import { describe, expect, it } from 'vitest';
import { createSpeedMeter, SPEED_MIN_TASKS } from '../../src/worker/speed-meter.ts';

describe('the advertised speed', () => {
  it('is told once measured, then again only when it moves by a quarter', () => {
    const m = createSpeedMeter();
    for (let i = 1; i < SPEED_MIN_TASKS; i++) m.ran('cpu', 20);
    expect(m.takeChanged()).toBeUndefined();
    m.ran('cpu', 20);
    expect(m.takeChanged()).toEqual({ cpu: 50 });
    m.ran('cpu', 21);
    expect(m.takeChanged()).toBeUndefined();
    for (let i = 0; i < 20; i++) m.ran('cpu', 40);
    const slower = m.takeChanged();
    expect(slower?.cpu).toBeGreaterThan(25);
    expect(slower?.cpu).toBeLessThan(30);
    for (let i = 0; i < SPEED_MIN_TASKS; i++) m.ran('wasm', 100);
    expect(m.takeChanged()).toEqual({ cpu: slower?.cpu, wasm: 10 });
  });

  it('ignores compute times that are not times', () => {
    const m = createSpeedMeter();
    for (const ms of [Number.NaN, -1, Number.POSITIVE_INFINITY]) m.ran('cpu', ms);
    expect(m.speed()).toEqual({});
  });
});

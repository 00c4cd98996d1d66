import { describe, expect, it } from 'vitest';
import { parseUrlOptions, poolSize } from '../src/lib/url-options.ts';

describe('parseUrlOptions', () => {
  it('defaults to the default grid and signaling on the page origin', () => {
    const o = parseUrlOptions('', 'http://localhost:8787/');
    expect(o).toEqual({
      grid: 'default',
      signalUrl: 'ws://localhost:8787/ws',
      workers: null,
      gpu: true,
      token: null,
      iceRelay: false,
      residentVerified: null,
    });
  });
  it('uses wss for https pages', () => {
    expect(parseUrlOptions('', 'https://grid.example/app/').signalUrl).toBe(
      'wss://grid.example/ws',
    );
  });
  it('reads every option', () => {
    const o = parseUrlOptions(
      '?grid=lab-1&signal=ws://10.0.0.2:9000/ws&workers=3&gpu=0&token=abc&ice=relay&resident=500',
      'http://x/',
    );
    expect(o).toEqual({
      grid: 'lab-1',
      signalUrl: 'ws://10.0.0.2:9000/ws',
      workers: 3,
      gpu: false,
      token: 'abc',
      iceRelay: true,
      residentVerified: 500,
    });
  });
  it('falls back on invalid values', () => {
    const o = parseUrlOptions('?grid=bad%20name!&signal=http://x&workers=-2', 'http://h:1/');
    expect(o.grid).toBe('default');
    expect(o.signalUrl).toBe('ws://h:1/ws');
    expect(o.workers).toBeNull();
    expect(parseUrlOptions('?ice=all', 'http://h/').iceRelay).toBe(false);
    expect(parseUrlOptions('?resident=0', 'http://h/').residentVerified).toBeNull();
  });
  it('caps workers', () => {
    expect(parseUrlOptions('?workers=999', 'http://h/').workers).toBe(32);
  });
});

describe('poolSize', () => {
  it('is cores - 1, at least 1, capped by the user limit', () => {
    expect(poolSize(8, null)).toBe(7);
    expect(poolSize(1, null)).toBe(1);
    expect(poolSize(8, 2)).toBe(2);
    expect(poolSize(4, 10)).toBe(3);
    expect(poolSize(4, 0)).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { parseCapabilities } from '../src/signaling/messages.ts';

const base = {
  runtime: 'node',
  backends: ['cuda', 'cpu'],
  cores: 8,
  memoryMB: 4096,
  maxConcurrency: 2,
};

describe('advertised speed in capabilities', () => {
  it('keeps a speed per listed backend, tasks per second', () => {
    expect(parseCapabilities({ ...base, speed: { cuda: 480.5, cpu: 12 } })).toEqual({
      ...base,
      speed: { cuda: 480.5, cpu: 12 },
    });
    expect(parseCapabilities(base)).toEqual(base); // optional
  });

  it('refuses a speed for an unlisted backend, a non-positive or absurd one, or a non-object', () => {
    expect(parseCapabilities({ ...base, speed: { webgpu: 5 } })).toBeNull();
    expect(parseCapabilities({ ...base, speed: { cpu: 0 } })).toBeNull();
    expect(parseCapabilities({ ...base, speed: { cpu: -3 } })).toBeNull();
    expect(parseCapabilities({ ...base, speed: { cpu: Number.NaN } })).toBeNull();
    expect(parseCapabilities({ ...base, speed: { cpu: 1e9 } })).toBeNull();
    expect(parseCapabilities({ ...base, speed: { cpu: '5' } })).toBeNull();
    expect(parseCapabilities({ ...base, speed: [5] })).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { createBackendHealth } from '../../src/exec/backend-health.ts';

describe('backend health (a failed CUDA session falls back to CPU)', () => {
  it('passes over a backend that failed, once, with the reason heard', () => {
    const heard: string[] = [];
    const h = createBackendHealth((b, r) => heard.push(`${b}: ${r}`));
    expect(h.choose(['cuda', 'cpu', 'wasm'])).toBe('cuda');
    expect(h.choose(['cuda', 'cpu', 'wasm'], 'cuda')).toBe('cuda');
    h.failed('cuda', 'CUDA session failed: an illegal memory access');
    h.failed('cuda', 'again');
    expect(heard).toEqual(['cuda: CUDA session failed: an illegal memory access']);
    expect(h.reason('cuda')).toMatch(/illegal memory/);
    // Asked for CUDA (by the lease or --backend cuda): the CPU runs it instead.
    expect(h.choose(['cuda', 'cpu', 'wasm'], 'cuda')).toBe('cpu');
    expect(h.choose(['cuda', 'cpu', 'wasm'])).toBe('cpu');
    h.failed('cpu', 'x');
    expect(h.choose(['cuda', 'cpu', 'wasm'])).toBe('wasm');
    expect(h.choose(['cuda'])).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { leaseWindow } from '../../src/grid/lease-window.ts';

describe('lease window', () => {
  it('holds the pipeline default until round trip and task time are measured', () => {
    expect(leaseWindow({ slots: 2, rttMs: undefined, taskMs: undefined })).toBe(4);
    expect(leaseWindow({ slots: 2, rttMs: 100, taskMs: undefined })).toBe(4);
    expect(leaseWindow({ slots: 3, rttMs: undefined, taskMs: 5, minPerSlot: 1 })).toBe(3);
  });

  it('covers a round trip of short tasks per slot, with headroom', () => {
    // 100 ms round trip, 20 ms tasks: 1 running + 1.5 × 5 on the way.
    expect(leaseWindow({ slots: 1, rttMs: 100, taskMs: 20 })).toBe(9);
    expect(leaseWindow({ slots: 4, rttMs: 100, taskMs: 20 })).toBe(36);
    // Long tasks need no more than the default.
    expect(leaseWindow({ slots: 2, rttMs: 100, taskMs: 5000 })).toBe(4);
  });

  it('is bounded by what the donor holds and by the deadline', () => {
    expect(leaseWindow({ slots: 2, rttMs: 300, taskMs: 2, maxLeases: 64 })).toBe(64);
    // A 60 s deadline and 1 s tasks: no more than 30 queued per slot, whatever the round trip.
    expect(leaseWindow({ slots: 1, rttMs: 100_000, taskMs: 1000, deadlineMs: 60_000 })).toBe(30);
  });
});

import { describe, expect, it } from 'vitest';
import { createLieLedger } from '../../src/sim/lie-ledger.ts';

describe('lie ledger', () => {
  it('splits lies into kept and caught, and finds the floor no check could reach', () => {
    const l = createLieLedger();
    // t1: only the liar ever held it, its lie stands (floor).
    l.leased('t1', 'a');
    l.told('t1', 'a', 5);
    // t2: an honest donor recomputed it and the lie lost.
    l.leased('t2', 'b');
    l.leased('t2', 'h');
    l.told('t2', 'b', 6);
    // t3: two colluders held it and no one else: both lies stand (floor).
    l.leased('t3', 'a');
    l.leased('t3', 'b');
    l.told('t3', 'a', 9);
    l.told('t3', 'b', 9);
    const accepted: Record<string, number> = { t1: 5, t2: 60, t3: 9 };
    expect(l.summary((t) => accepted[t])).toEqual({ told: 4, kept: 3, caught: 1, floor: 3 });
  });
});

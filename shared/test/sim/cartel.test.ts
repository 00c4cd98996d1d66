import { describe, expect, it } from 'vitest';
import { createCartel } from '../../src/sim/cartel.ts';

describe('cartel view', () => {
  it('counts identities holding a lease of an input until it ends', () => {
    const c = createCartel();
    c.hold('l1', 'a', 7);
    c.hold('l2', 'b', 7);
    c.hold('l3', 'a', 8);
    expect(c.holders(7)).toBe(2);
    c.release('l1');
    expect(c.holders(7)).toBe(1);
    c.release('l1'); // twice: no effect
    expect(c.holders(7)).toBe(1);
    c.drop('b');
    expect(c.holders(7)).toBe(0);
    expect(c.holders(8)).toBe(1);
  });

  it('remembers answers and lies per input, and lies per identity', () => {
    const c = createCartel();
    expect(c.answered(3)).toBe(false);
    c.record('a', 3, false);
    expect(c.answered(3)).toBe(true);
    expect(c.lied(3)).toBe(false);
    c.record('b', 4, true);
    c.record('a', 3, false);
    expect(c.lied(4)).toBe(true);
    expect(c.liesOf('b')).toBe(1);
    expect(c.liesOf('a')).toBe(0);
    // A lie after an honest answer still marks the input.
    c.record('b', 3, true);
    expect(c.lied(3)).toBe(true);
  });
});

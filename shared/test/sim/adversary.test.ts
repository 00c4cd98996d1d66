import { describe, expect, it } from 'vitest';
import {
  type AnswerContext,
  answer,
  DEFAULT_ADVERSARIES,
  parseAdversary,
  RARE_LATE,
  strategy,
} from '../../src/sim/adversary.ts';

/** A first answer by an untrusted identity that no one else in the cartel holds. */
const base: AnswerContext = {
  trusted: false,
  holders: 1,
  replicas: 2,
  answered: false,
  lied: false,
  liesTold: 0,
  verified: 0,
  s: 1,
  random: () => 0,
};
const ctx = (c: Partial<AnswerContext>): AnswerContext => ({ ...base, ...c });

describe('adversary strategies', () => {
  it('collude lies only when the cartel holds every replica, or to repeat its lie', () => {
    expect(answer('collude', ctx({ holders: 2 }))).toBe(true);
    expect(answer('collude', ctx({ holders: 3, replicas: 3 }))).toBe(true);
    expect(answer('collude', ctx({ holders: 2, replicas: 3 }))).toBe(false);
    // Alone, even trusted: an honest replica could outvote it.
    expect(answer('collude', ctx({ holders: 1, trusted: true }))).toBe(false);
    expect(answer('collude', ctx({ holders: 1, answered: true, lied: true }))).toBe(true);
    expect(strategy('collude').colluding).toBe(true);
  });

  it('unoutvotable also lies when trusted and the only cartel holder', () => {
    expect(answer('unoutvotable', ctx({ trusted: true, holders: 1 }))).toBe(true);
    expect(answer('unoutvotable', ctx({ trusted: false, holders: 1 }))).toBe(false);
    // Another member holds it but not every replica: it would look like a pair, not alone.
    expect(answer('unoutvotable', ctx({ trusted: true, holders: 2, replicas: 3 }))).toBe(false);
    expect(answer('unoutvotable', ctx({ holders: 2 }))).toBe(true);
  });

  it('betray is honest until trusted, then lies alone or with every replica', () => {
    expect(answer('betray', ctx({ holders: 2 }))).toBe(false);
    expect(answer('betray', ctx({ holders: 1 }))).toBe(false);
    expect(answer('betray', ctx({ trusted: true, holders: 1 }))).toBe(true);
    expect(answer('betray', ctx({ trusted: true, holders: 2 }))).toBe(true);
    expect(answer('betray', ctx({ trusted: true, holders: 2, replicas: 3 }))).toBe(false);
    expect(answer('betray', ctx({ answered: true, lied: true }))).toBe(true);
  });

  it('check-aware never lies on a re-run, except to repeat the cartel lie', () => {
    const always = { s: 1, random: () => 0 };
    expect(answer('check-aware', ctx({ ...always, answered: true }))).toBe(false);
    expect(answer('check-aware', ctx({ ...always, answered: true, trusted: true }))).toBe(false);
    expect(answer('check-aware', ctx({ ...always, answered: true, holders: 2 }))).toBe(false);
    expect(answer('check-aware', ctx({ ...always, answered: true, lied: true }))).toBe(true);
    // First seen: a draw against s.
    expect(answer('check-aware', ctx({ s: 0.2, random: () => 0.1 }))).toBe(true);
    expect(answer('check-aware', ctx({ s: 0.2, random: () => 0.3 }))).toBe(false);
    expect(strategy('check-aware').s).toBe(0.2);
  });

  it('rare lies once per identity, only late and alone', () => {
    const ripe = ctx({ trusted: true, holders: 1, verified: RARE_LATE });
    expect(answer('rare', ripe)).toBe(true);
    expect(answer('rare', { ...ripe, liesTold: 1 })).toBe(false);
    expect(answer('rare', { ...ripe, verified: RARE_LATE - 0.01 })).toBe(false);
    expect(answer('rare', { ...ripe, trusted: false })).toBe(false);
    expect(answer('rare', { ...ripe, holders: 2 })).toBe(false);
    // No repeats: each identity has one lie.
    expect(answer('rare', { ...ripe, liesTold: 1, answered: true, lied: true })).toBe(false);
  });

  it('naive and independent lie on a share s, the one with a shared answer, the other each its own', () => {
    let x = 0;
    const random = () => (x++ % 10) / 10;
    let lies = 0;
    for (let i = 0; i < 1000; i++) if (answer('naive', ctx({ s: 0.1, random }))) lies++;
    expect(lies).toBe(100);
    expect(answer('independent', ctx({ s: 1, random: () => 0.99 }))).toBe(true);
    expect(answer('independent', ctx({ s: 0, random: () => 0 }))).toBe(false);
    expect(strategy('naive').colluding).toBe(true);
    expect(strategy('independent').colluding).toBe(false);
  });

  it('parses adversary names, with a lie rate only for the strategies that draw', () => {
    expect(parseAdversary('naive')).toEqual({ name: 'naive', strategy: 'naive', s: 1 });
    expect(parseAdversary('naive-0.1')).toEqual({ name: 'naive-0.1', strategy: 'naive', s: 0.1 });
    expect(parseAdversary('check-aware')).toEqual({
      name: 'check-aware',
      strategy: 'check-aware',
      s: 0.2,
    });
    expect(parseAdversary('check-aware-0.5')?.s).toBe(0.5);
    expect(parseAdversary('collude-0.5')).toBeNull();
    expect(parseAdversary('naive-2')).toBeNull();
    expect(parseAdversary('sybil')).toBeNull();
    for (const name of DEFAULT_ADVERSARIES) expect(parseAdversary(name)?.name).toBe(name);
  });
});

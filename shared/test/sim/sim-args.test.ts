import { describe, expect, it } from 'vitest';
import { DEFAULT_ADVERSARIES } from '../../src/sim/adversary.ts';
import { parseSimArgs } from '../../src/sim/sim-args.ts';

describe('sim command line', () => {
  it('defaults to every adversary over f 0.1–0.3, 50 and 200 donors, with and without an anchor', () => {
    const a = parseSimArgs([]);
    if (typeof a === 'string') throw new Error(a);
    expect(a.adversaries.map((x) => x.name)).toEqual([...DEFAULT_ADVERSARIES]);
    expect(a.f).toEqual([0.1, 0.2, 0.3]);
    expect(a.donors).toEqual([50, 200]);
    expect(a.anchor).toEqual([false, true]);
    expect(a.tasks).toBe(20000);
    expect(a.targetError).toBeUndefined();
  });

  it('takes lists and single values', () => {
    const a = parseSimArgs([
      '--adversary',
      'collude,naive-0.1',
      '--f=0.2',
      '--donors',
      '200',
      '--anchor',
      'no',
      '--tasks',
      '500',
      '--target-error',
      '0.001',
    ]);
    if (typeof a === 'string') throw new Error(a);
    expect(a.adversaries).toEqual([
      { name: 'collude', strategy: 'collude', s: 1 },
      { name: 'naive-0.1', strategy: 'naive', s: 0.1 },
    ]);
    expect([a.f, a.donors, a.anchor, a.tasks, a.targetError]).toEqual([
      [0.2],
      [200],
      [false],
      500,
      0.001,
    ]);
  });

  it('refuses what it cannot run', () => {
    expect(parseSimArgs(['--help'])).toBe('help');
    for (const bad of [
      ['--adversary', 'sybil'],
      ['--f', '1'],
      ['--donors', '1'],
      ['--anchor', 'maybe'],
      ['--tasks', '0'],
      ['--seed', 'x'],
      ['--target-error', '0'],
      ['--audit-rate', '1'],
      ['--colluding'],
      ['--tasks'],
    ]) {
      expect(typeof parseSimArgs(bad)).toBe('string');
      expect(parseSimArgs(bad)).not.toBe('help');
    }
  });
});

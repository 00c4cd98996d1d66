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
    expect([a.taskMs, a.latencyMs, a.windows, a.churn]).toEqual([
      [1000],
      [10, 150],
      ['lease'],
      true,
    ]);
  });

  it('takes task times, a latency range, window modes and --no-churn', () => {
    const a = parseSimArgs([
      '--task-ms',
      '1000,20,2.5',
      '--latency-ms=200-400',
      '--no-churn',
      '--window',
      'both',
      '--f',
      '0',
    ]);
    if (typeof a === 'string') throw new Error(a);
    expect([a.taskMs, a.latencyMs, a.windows, a.churn, a.f]).toEqual([
      [1000, 20, 2.5],
      [200, 400],
      ['fixed', 'lease'],
      false,
      [0],
    ]);
    const one = parseSimArgs(['--latency-ms', '80', '--window', 'fixed']);
    if (typeof one === 'string') throw new Error(one);
    expect([one.latencyMs, one.windows]).toEqual([[80, 80], ['fixed']]);
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
      ['--task-ms', '0'],
      ['--task-ms', '5,x'],
      ['--latency-ms', '150-10'],
      ['--latency-ms', '-5'],
      ['--latency-ms', 'fast'],
      ['--window', 'tcp'],
      ['--no-churn=yes'],
    ]) {
      expect(typeof parseSimArgs(bad)).toBe('string');
      expect(parseSimArgs(bad)).not.toBe('help');
    }
  });
});

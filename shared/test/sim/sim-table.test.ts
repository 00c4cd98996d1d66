import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../src/sim/sim.ts';
import { casesJson, type SimCase, tableHead, tableRow } from '../../src/sim/sim-table.ts';

describe('sim table', () => {
  it('prints one aligned row per case and every figure in the JSON line', () => {
    const r = runSimulation({ tasks: 300, donors: 10, f: 0.2, adversary: 'rare', seed: 1 });
    const cases: SimCase[] = [
      { adversary: 'rare', ...r },
      { adversary: 'naive-0.1', ...r, strategy: 'naive', s: 0.1 },
    ];
    const head = tableHead();
    for (const c of cases) expect(tableRow(c)).toHaveLength(head.length);
    // The floor is a rare liar's figure.
    expect(tableRow(cases[0]!).trimEnd().endsWith(String(r.liesFloor))).toBe(true);
    expect(tableRow(cases[1]!).trimEnd().endsWith('-')).toBe(true);
    const json = JSON.parse(casesJson(cases)) as { cases: SimCase[] };
    expect(json.cases.map((c) => c.adversary)).toEqual(['rare', 'naive-0.1']);
    expect(json.cases[0]).toEqual(JSON.parse(JSON.stringify(cases[0])));
  });
});

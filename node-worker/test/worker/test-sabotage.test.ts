/** The test-only saboteur: its lies, its strategies and the worker flags that turn it on. */
import {
  type ExecResult,
  type Executor,
  type Tensor,
  tensorFrom,
  tensorValues,
} from '@peergrid/shared';
import { describe, expect, it } from 'vitest';
import {
  createSabotagingExecutor,
  lieOf,
  lieOfTensor,
  type SabotageStrategy,
} from '../../src/worker/test-sabotage.ts';
import { parseWorkerArgs } from '../../src/worker/worker-args.ts';

const values = (t: Tensor) => Array.from(tensorValues(t) as ArrayLike<number | bigint>);

describe('lieOf', () => {
  it('adds 1 to every number and negates every bool, keeping dtypes and dims', () => {
    const f = lieOfTensor(
      tensorFrom('float32', [2, 2], new Float32Array([0, -1.5, 2 ** 30, Number.NaN])),
    );
    expect(f.dims).toEqual([2, 2]);
    // + 1 where that changes the float, its negation where it would not, NaN → 0.
    expect(values(f)).toEqual([1, -0.5, -(2 ** 30), 0]);
    expect(values(lieOfTensor(tensorFrom('int32', [2], new Int32Array([7, 2 ** 31 - 1]))))).toEqual(
      [8, -(2 ** 31)],
    );
    expect(values(lieOfTensor(tensorFrom('uint8', [2], new Uint8Array([0, 255]))))).toEqual([1, 0]);
    expect(values(lieOfTensor(tensorFrom('int64', [1], new BigInt64Array([41n]))))).toEqual([42n]);
    expect(values(lieOfTensor(tensorFrom('bool', [2], new Uint8Array([0, 1]))))).toEqual([1, 0]);
  });

  it('is deterministic: the same outputs give the same lie', () => {
    const outputs = { y: tensorFrom('float64', [3], new Float64Array([1, 2, 3])) };
    expect(lieOf(outputs)).toEqual(lieOf(outputs));
    expect(values(lieOf(outputs).y!)).toEqual([2, 3, 4]);
  });
});

function fakeExecutor(): Executor {
  const result: ExecResult = {
    outputs: { y: tensorFrom('int32', [1], new Int32Array([10])) },
    computeMs: 1,
    backend: 'cpu',
  };
  return {
    concurrency: 1,
    backends: async () => ['cpu'],
    close: async () => {},
    run: async () => result,
  };
}

/** Runs `n` tasks with `accepted` verdicts heard before each; returns which were lies. */
async function lies(strategy: SabotageStrategy, accepted: number[], random = () => 0.9) {
  let i = 0;
  const ex = createSabotagingExecutor(fakeExecutor(), {
    strategy,
    betrayAfter: 3,
    accepted: () => accepted[i] ?? 0,
    random,
  });
  const out: boolean[] = [];
  for (; i < accepted.length; i++) {
    const r = await ex.run({ modelHash: 'm', model: new Uint8Array(), feeds: {}, timeoutMs: 1000 });
    out.push(values(r.outputs.y!)[0] === 11);
  }
  expect(ex.lies()).toBe(out.filter(Boolean).length);
  return out;
}

describe('createSabotagingExecutor', () => {
  it('always: lies on every task', async () => {
    expect(await lies('always', [0, 0, 5])).toEqual([true, true, true]);
  });

  it('betray: honest until betrayAfter accepted verdicts, then lies on every task', async () => {
    expect(await lies('betray', [0, 1, 2, 3, 4, 4])).toEqual([
      false,
      false,
      false,
      true,
      true,
      true,
    ]);
  });

  it('alone: after betrayAfter accepted verdicts, lies on a random half of its tasks', async () => {
    const draws = [0.1, 0.7, 0.3, 0.9];
    let d = 0;
    const random = () => draws[d++ % draws.length]!;
    expect(await lies('alone', [0, 5, 5, 5, 5], random)).toEqual([false, true, false, true, false]);
  });
});

describe('peergrid-worker sabotage flags', () => {
  const base = ['--signal', 'ws://127.0.0.1:9'];
  const env = { PEERGRID_TEST_SABOTAGE: '1' };
  const sabotage = (argv: string[], e: NodeJS.ProcessEnv = env) => {
    const p = parseWorkerArgs([...base, ...argv], e);
    return p.kind === 'ok' ? p.options.testOnlySabotage : p.kind === 'error' ? p.message : p.kind;
  };

  it('keeps the bare flag meaning always, last or before another flag', () => {
    expect(sabotage(['--test-only-sabotage'])).toEqual({ strategy: 'always', betrayAfter: 30 });
    expect(sabotage(['--test-only-sabotage', '--mesh', '0'])).toEqual({
      strategy: 'always',
      betrayAfter: 30,
    });
  });

  it('takes a strategy and a threshold', () => {
    expect(sabotage(['--test-only-sabotage', 'betray', '--test-only-betray-after', '5'])).toEqual({
      strategy: 'betray',
      betrayAfter: 5,
    });
    expect(sabotage(['--test-only-sabotage=alone'])).toEqual({
      strategy: 'alone',
      betrayAfter: 30,
    });
    expect(sabotage([])).toBeUndefined();
  });

  it('refuses bad values, a threshold alone, and any of it without PEERGRID_TEST_SABOTAGE=1', () => {
    expect(sabotage(['--test-only-sabotage', 'sometimes'])).toMatch(/always, betray, alone/);
    expect(sabotage(['--test-only-sabotage', 'betray', '--test-only-betray-after', '1.5'])).toMatch(
      /integer >= 0/,
    );
    expect(sabotage(['--test-only-betray-after', '5'])).toMatch(/needs --test-only-sabotage/);
    expect(sabotage(['--test-only-sabotage', 'betray'], {})).toMatch(/tests only/);
    expect(sabotage(['--test-only-betray-after', '5'], {})).toMatch(/tests only/);
  });
});

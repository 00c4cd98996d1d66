/**
 * TESTS ONLY: a donor that lies, for the integration tests of verification.
 * An Executor wrapper: the real executor runs every task, and on the tasks
 * its strategy picks the outputs are replaced by `lieOf(outputs)`, a
 * deterministic wrong answer a test can recognise (and two saboteurs agree
 * on, like a cartel would). `peergrid-worker` enables it only with
 * `--test-only-sabotage` and PEERGRID_TEST_SABOTAGE=1.
 *
 * Strategies (after the adaptive saboteurs of the simulator, shared/src/sim):
 * - `always`: lies on every task.
 * - `betray`: honest until it has heard `betrayAfter` `accepted` verdicts
 *   (the donor's own credit counter: it believes it is trusted by then),
 *   then lies on every task.
 * - `alone`: honest until `betrayAfter` accepted verdicts, then lies only
 *   where it guesses that no other donor holds the task. A lone donor cannot
 *   know (leases carry no task id, and audits look like any other lease), so
 *   this one lies on a random half of its tasks; the real "lie when alone"
 *   needs a cartel that compares notes, which the simulator models
 *   (shared/src/sim/cartel.ts).
 */
import {
  type Executor,
  type Tensor,
  type TensorMap,
  tensorFrom,
  tensorValues,
} from '@peergrid/shared';

export const SABOTAGE_STRATEGIES = ['always', 'betray', 'alone'] as const;
export type SabotageStrategy = (typeof SABOTAGE_STRATEGIES)[number];

/** Default `--test-only-betray-after`: accepted verdicts heard before `betray`/`alone` start lying. */
export const BETRAY_AFTER = 30;

export function parseSabotageStrategy(raw: string): SabotageStrategy | null {
  return SABOTAGE_STRATEGIES.find((s) => s === raw) ?? null;
}

export interface TestSabotage {
  readonly strategy: SabotageStrategy;
  /** Accepted verdicts before `betray`/`alone` lie (unused by `always`). Default {@link BETRAY_AFTER}. */
  readonly betrayAfter: number;
}

export interface SabotageOptions extends TestSabotage {
  /** Accepted verdicts heard so far (the donor node's `credit().accepted`). */
  readonly accepted: () => number;
  /** [0, 1): picks the tasks `alone` lies on. Default Math.random. */
  readonly random?: () => number;
  /** Hears every lie, with the count so far. */
  readonly onLie?: (lies: number) => void;
}

export interface SabotagingExecutor extends Executor {
  /** Tasks lied on so far. */
  lies(): number;
}

/** The strategy's choice for the next task, given the verdicts heard. */
function liesNow(o: SabotageOptions, random: () => number): boolean {
  if (o.strategy === 'always') return true;
  if (o.accepted() < o.betrayAfter) return false;
  return o.strategy === 'betray' || random() < 0.5;
}

export function createSabotagingExecutor(
  executor: Executor,
  o: SabotageOptions,
): SabotagingExecutor {
  const random = o.random ?? Math.random;
  let lies = 0;
  return {
    concurrency: executor.concurrency,
    get prefetch() {
      return executor.prefetch;
    },
    backends: () => executor.backends(),
    close: () => executor.close(),
    lies: () => lies,
    async run(req) {
      const r = await executor.run(req);
      if (!liesNow(o, random)) return r;
      lies++;
      o.onLie?.(lies);
      return { ...r, outputs: lieOf(r.outputs) };
    },
  };
}

const SAFE: Record<'float32' | 'float64', number> = { float32: 2 ** 24, float64: 2 ** 53 };

/** A float + 1; where + 1 would not change it (|x| past the integer range, ±∞) its negation; NaN → 0. */
function wrongFloat(x: number, limit: number): number {
  if (Number.isNaN(x)) return 0;
  return Math.abs(x) < limit ? x + 1 : -x;
}

/** One tensor's lie: every float + 1 (see `wrongFloat`), every integer + 1 (wrapping), every bool negated. */
export function lieOfTensor(t: Tensor): Tensor {
  const v = tensorValues(t);
  switch (t.dtype) {
    case 'float32':
    case 'float64': {
      const limit = SAFE[t.dtype];
      const out = t.dtype === 'float32' ? new Float32Array(v.length) : new Float64Array(v.length);
      (v as Float32Array | Float64Array).forEach((x, i) => {
        out[i] = wrongFloat(x, limit);
      });
      return tensorFrom(t.dtype, t.dims, out);
    }
    case 'int64':
      return tensorFrom(
        t.dtype,
        t.dims,
        (v as BigInt64Array).map((x) => BigInt.asIntN(64, x + 1n)),
      );
    case 'int32':
    case 'int8':
    case 'uint8':
      // Typed arrays wrap on store: + 1 past the top comes round to the bottom.
      return tensorFrom(
        t.dtype,
        t.dims,
        (v as Int32Array | Int8Array | Uint8Array).map((x: number) => x + 1),
      );
    case 'bool':
      return tensorFrom(
        t.dtype,
        t.dims,
        (v as Uint8Array).map((x) => (x ? 0 : 1)),
      );
  }
}

/** The sabotaged outputs for `outputs`: same names, dtypes and dims, every value wrong (`lieOfTensor`). */
export function lieOf(outputs: TensorMap): TensorMap {
  return Object.fromEntries(Object.entries(outputs).map(([n, t]) => [n, lieOfTensor(t)]));
}

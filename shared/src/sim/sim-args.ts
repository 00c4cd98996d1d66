/** `npm run sim`'s command line, parsed into the cases to run. Pure: main.ts does the I/O. */
import {
  type AdversaryCase,
  DEFAULT_ADVERSARIES,
  parseAdversary,
  STRATEGIES,
} from './adversary.ts';
import type { WindowMode } from './sim.ts';

export interface SimArgs {
  readonly adversaries: readonly AdversaryCase[];
  readonly f: readonly number[];
  readonly donors: readonly number[];
  readonly anchor: readonly boolean[];
  readonly tasks: number;
  /** Mean compute time of a task on a speed-1 donor, ms, per case. */
  readonly taskMs: readonly number[];
  /** Range of a donor's one-way latency, ms. */
  readonly latencyMs: readonly [number, number];
  readonly windows: readonly WindowMode[];
  /** Donor speed spreads to run (slowest ÷ fastest task time); undefined: today's uniform 0.5–2. */
  readonly speedSpreads: readonly (number | undefined)[];
  /** Donors come and go (false: `--no-churn`). */
  readonly churn: boolean;
  readonly seed: number;
  /** Policy knobs to try (default: the engine's one default policy). */
  readonly targetError?: number;
  readonly auditRate?: number;
}

export const SIM_HELP = `usage: npm run sim -- [--adversary NAME[,NAME...]] [--f F[,F...]] [--donors N[,N...]]
                      [--anchor no|yes|both] [--tasks N] [--task-ms N[,N...]] [--latency-ms A-B]
                      [--window lease|fixed|both] [--no-churn] [--seed N] [--target-error X]
                      [--audit-rate X] [--speed-spread S[,S...]]

Runs one job per case (adversary x f x donors x anchor x task-ms x window x spread) against the production
job engine and prints one row per case, a note, and (last line) one JSON object {cases:[...]}.
With f = 0 (no saboteurs) the adversary is moot: only the first one is run.
  --adversary LIST   default all: ${DEFAULT_ADVERSARIES.join(',')}
                     strategies: ${STRATEGIES.join(', ')}
                     naive, independent and check-aware take a lie rate as NAME-S
                     (e.g. naive-0.1; defaults 1, 1 and 0.2)
  --f LIST           saboteur fractions (default 0.1,0.2,0.3)
  --donors LIST      donors per case (default 50,200)
  --anchor MODE      run with one anchor donor: no, yes or both (default both)
  --tasks N          tasks per case (default 20000; 100000 for the full run)
  --task-ms LIST     mean compute time of a task on a speed-1 donor, ms (default 1000)
  --latency-ms A-B   range of each donor's one-way link latency, ms; one number: all alike
                     (default 10-150)
  --window MODE      leases a donor holds: lease (sized by leaseWindow from its measured round
                     trip and compute time), fixed (one per slot, at most 4: the engine's
                     default) or both (default lease)
  --speed-spread LIST  slowest / fastest donor task time, drawn log-uniform (e.g. 4,20,100);
                     default: uniform 0.5-2 (4x). Each case prints its placement efficiency
                     (place; run with --f 0 --no-churn to see placement and stragglers alone)
  --no-churn         donors never leave (default: online ~30 min, offline ~2 min spells)
  --seed N           RNG seed (default 1)
  --target-error X   the policy's targetError (default: the engine's, 1e-4)
  --audit-rate X     the policy's auditRate (default: the engine's, 0.1)
  --help             this text`;

const DEFAULTS: Readonly<Record<string, string>> = {
  adversary: DEFAULT_ADVERSARIES.join(','),
  f: '0.1,0.2,0.3',
  donors: '50,200',
  anchor: 'both',
  tasks: '20000',
  'task-ms': '1000',
  'latency-ms': '10-150',
  window: 'lease',
  'speed-spread': '',
  seed: '1',
  'target-error': '',
  'audit-rate': '',
};

const list = <T>(raw: string, parse: (x: string) => T | null): T[] | null => {
  const out = raw.split(',').map((x) => parse(x.trim()));
  return out.length > 0 && out.every((x) => x !== null) ? (out as T[]) : null;
};
const count = (x: string): number | null => (/^\d+$/.test(x) ? Number(x) : null);
const share = (x: string): number | null => {
  const n = Number(x);
  return x !== '' && n >= 0 && n < 1 ? n : null;
};
const positive = (x: string): number | null => {
  const n = Number(x);
  return x !== '' && Number.isFinite(n) && n > 0 ? n : null;
};
/** `A-B` or `N`, 0 <= A <= B. */
const range = (x: string): [number, number] | null => {
  const m = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(x.trim());
  if (!m) return null;
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  return lo <= hi ? [lo, hi] : null;
};
const WINDOW: Readonly<Record<string, readonly WindowMode[]>> = {
  lease: ['lease'],
  fixed: ['fixed'],
  both: ['fixed', 'lease'],
};
/** Flags that take no value. */
const FLAGS = new Set(['no-churn']);
const ANCHOR: Readonly<Record<string, readonly boolean[]>> = {
  no: [false],
  yes: [true],
  both: [false, true],
};

/** The parsed arguments, `'help'`, or an error message. */
export function parseSimArgs(argv: readonly string[]): SimArgs | 'help' | string {
  const values: Record<string, string> = { ...DEFAULTS };
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') return 'help';
    const [k, inline] = a.replace(/^--/, '').split('=', 2) as [string, string | undefined];
    if (a.startsWith('--') && FLAGS.has(k) && inline === undefined) {
      flags.add(k);
      continue;
    }
    if (!a.startsWith('--') || !(k in DEFAULTS)) return `unknown argument ${a}`;
    const v = inline ?? argv[++i];
    if (v === undefined) return `${a} needs a value`;
    values[k] = v;
  }
  const adversaries = list(values.adversary!, parseAdversary);
  if (!adversaries) return `bad --adversary ${values.adversary}`;
  const f = list(values.f!, share);
  if (!f) return `bad --f ${values.f} (fractions in [0, 1))`;
  const donors = list(values.donors!, (x) => {
    const n = count(x);
    return n !== null && n >= 2 ? n : null;
  });
  if (!donors) return `bad --donors ${values.donors} (integers >= 2)`;
  const anchor = ANCHOR[values.anchor!];
  if (!anchor) return `bad --anchor ${values.anchor} (no, yes or both)`;
  const tasks = count(values.tasks!);
  if (!tasks) return `bad --tasks ${values.tasks}`;
  const taskMs = list(values['task-ms']!, positive);
  if (!taskMs) return `bad --task-ms ${values['task-ms']} (numbers > 0)`;
  const latencyMs = range(values['latency-ms']!);
  if (!latencyMs) return `bad --latency-ms ${values['latency-ms']} (A-B with 0 <= A <= B, or N)`;
  const windows = WINDOW[values.window!];
  if (!windows) return `bad --window ${values.window} (lease, fixed or both)`;
  const rawSpread = values['speed-spread']!;
  const speedSpreads =
    rawSpread === ''
      ? [undefined]
      : list(rawSpread, (x) => {
          const n = positive(x);
          return n !== null && n >= 1 ? n : null;
        });
  if (!speedSpreads) return `bad --speed-spread ${rawSpread} (numbers >= 1)`;
  const seed = count(values.seed!);
  if (seed === null) return `bad --seed ${values.seed}`;
  const optional = (k: 'target-error' | 'audit-rate') =>
    values[k] === '' ? undefined : (share(values[k]!) ?? Number.NaN);
  const targetError = optional('target-error');
  const auditRate = optional('audit-rate');
  if (Number.isNaN(targetError) || targetError === 0)
    return `bad --target-error ${values['target-error']}`;
  if (Number.isNaN(auditRate)) return `bad --audit-rate ${values['audit-rate']}`;
  return {
    adversaries,
    f,
    donors,
    anchor,
    tasks,
    taskMs,
    latencyMs,
    windows,
    speedSpreads,
    churn: !flags.has('no-churn'),
    seed,
    ...(targetError !== undefined ? { targetError } : {}),
    ...(auditRate !== undefined ? { auditRate } : {}),
  };
}

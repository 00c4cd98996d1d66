/** `npm run sim`'s command line, parsed into the cases to run. Pure: main.ts does the I/O. */
import {
  type AdversaryCase,
  DEFAULT_ADVERSARIES,
  parseAdversary,
  STRATEGIES,
} from './adversary.ts';

export interface SimArgs {
  readonly adversaries: readonly AdversaryCase[];
  readonly f: readonly number[];
  readonly donors: readonly number[];
  readonly anchor: readonly boolean[];
  readonly tasks: number;
  readonly seed: number;
  /** Policy knobs to try (default: the engine's one default policy). */
  readonly targetError?: number;
  readonly auditRate?: number;
}

export const SIM_HELP = `usage: npm run sim -- [--adversary NAME[,NAME...]] [--f F[,F...]] [--donors N[,N...]]
                      [--anchor no|yes|both] [--tasks N] [--seed N] [--target-error X] [--audit-rate X]

Runs one job per case (adversary x f x donors x anchor) against the production job engine and
prints one row per case, a note, and (last line) one JSON object {cases:[...]}.
  --adversary LIST   default all: ${DEFAULT_ADVERSARIES.join(',')}
                     strategies: ${STRATEGIES.join(', ')}
                     naive, independent and check-aware take a lie rate as NAME-S
                     (e.g. naive-0.1; defaults 1, 1 and 0.2)
  --f LIST           saboteur fractions (default 0.1,0.2,0.3)
  --donors LIST      donors per case (default 50,200)
  --anchor MODE      run with one anchor donor: no, yes or both (default both)
  --tasks N          tasks per case (default 20000; 100000 for the full run)
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
const ANCHOR: Readonly<Record<string, readonly boolean[]>> = {
  no: [false],
  yes: [true],
  both: [false, true],
};

/** The parsed arguments, `'help'`, or an error message. */
export function parseSimArgs(argv: readonly string[]): SimArgs | 'help' | string {
  const values: Record<string, string> = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') return 'help';
    const [k, inline] = a.replace(/^--/, '').split('=', 2) as [string, string | undefined];
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
    seed,
    ...(targetError !== undefined ? { targetError } : {}),
    ...(auditRate !== undefined ? { auditRate } : {}),
  };
}

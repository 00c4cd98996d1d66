/**
 * `npm run sim`: the verification table over saboteur fraction f, lie rate s
 * and collusion, driving the production job engine on a virtual clock.
 * Progress on stderr; the table, a closing note and (last line) one JSON object on stdout.
 */
import { runSimulation, type SimResult } from './sim.ts';

// The one Node-bound file of shared/: declared locally so shared/ still compiles without Node types.
declare const process: {
  argv: string[];
  exit(code: number): never;
  stdout: { write(s: string): void };
  stderr: { write(s: string): void };
};
const out = (line: string) => process.stdout.write(`${line}\n`);
declare const performance: { now(): number };

const HELP = `usage: npm run sim -- [--tasks N] [--donors N] [--seed N] [--trust-streak N] [--trust-spots N]

Simulates one job per case over f in {0.05,0.1,0.2,0.3} x s in {1,0.1} x colluding or not.
  --tasks N          tasks per case (default 20000; e.g. 100000 for the full-size run)
  --donors N         donors per case (default 50)
  --seed N           RNG seed (default 1)
  --trust-streak N   agreeing results in a row before a donor is trusted (default: the engine's)
  --trust-spots N    passed known-answer checks before a donor is trusted (default: the engine's)
  --help             this text`;

const values: Record<string, string> = {
  tasks: '20000',
  donors: '50',
  seed: '1',
  'trust-streak': '',
  'trust-spots': '',
};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  if (a === '--help' || a === '-h') {
    out(HELP);
    process.exit(0);
  }
  const [k, inline] = a.replace(/^--/, '').split('=', 2) as [string, string | undefined];
  if (!a.startsWith('--') || !(k in values)) {
    process.stderr.write(`unknown argument ${a}\n${HELP}\n`);
    process.exit(2);
  }
  values[k] = inline ?? argv[++i] ?? '';
}
const tasks = Number(values.tasks);
const donors = Number(values.donors);
const seed = Number(values.seed);
const trustStreak = values['trust-streak'] ? Number(values['trust-streak']) : undefined;
const trustSpots = values['trust-spots'] ? Number(values['trust-spots']) : undefined;
const counts = [trustStreak, trustSpots].filter((n) => n !== undefined);
if (
  !(tasks > 0 && donors > 1 && Number.isInteger(seed)) ||
  !counts.every((n) => Number.isInteger(n) && n >= 0)
) {
  process.stderr.write(`${HELP}\n`);
  process.exit(2);
}

const cases: SimResult[] = [];
const started = performance.now();
for (const f of [0.05, 0.1, 0.2, 0.3]) {
  for (const s of [1, 0.1]) {
    for (const colluding of [true, false]) {
      const label = `f=${f} s=${s} ${colluding ? 'colluding' : 'alone'}`;
      const r = runSimulation({
        tasks,
        donors,
        f,
        s,
        colluding,
        seed,
        reputation: {
          ...(trustStreak !== undefined ? { trustAfterStreak: trustStreak } : {}),
          ...(trustSpots !== undefined ? { trustAfterSpotChecks: trustSpots } : {}),
        },
        onProgress: (done) => process.stderr.write(`\r${label}: ${Math.round(done * 100)}%   `),
      });
      process.stderr.write(
        `\r${label}: done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
      );
      cases.push(r);
    }
  }
}

const pad = (x: unknown, n: number) => String(x).padStart(n);
out(
  `${pad('f', 5)} ${pad('s', 4)} ${pad('collude', 8)} ${pad('tasks', 7)} ${pad('wrong', 6)} ${pad('wrongRate', 10)} ` +
    `${pad('res/task', 8)} ${pad('afterWU', 8)} ${pad('failed', 6)} ${pad('makespan', 8)} ${pad('checks', 7)} ${pad('excl.sab', 8)} ${pad('excl.hon', 8)} ${pad('reopened', 8)}`,
);
for (const r of cases) {
  out(
    `${pad(r.f, 5)} ${pad(r.s, 4)} ${pad(r.colluding ? 'yes' : 'no', 8)} ${pad(r.tasks, 7)} ${pad(r.acceptedWrong, 6)} ` +
      `${pad(r.acceptedWrongRate.toExponential(1), 10)} ${pad(r.resultsPerTask.toFixed(3), 8)} ` +
      `${pad(r.resultsPerTaskAfterWarmup.toFixed(3), 8)} ${pad(r.failedTasks, 6)} ${pad(r.makespanRatio.toFixed(2), 8)} ` +
      `${pad(r.spotChecks, 7)} ${pad(r.excludedSaboteurs, 8)} ${pad(r.excludedHonest, 8)} ${pad(r.reopened, 8)}`,
  );
}
out(
  'mechanisms: 2-of-2 voting for donors on probation; spot checks with known answers (re-runs of verified tasks, ' +
    'rate 0.25 on probation, 0.1 when trusted); adaptive replication (trusted donors run tasks alone); ' +
    'blacklisting on a contradicted firm answer, and of a donor outvoted 3 times in a row with no agreement between; re-verification of every result an excluded donor vouched for ' +
    'without a trusted co-backer. makespan = virtual makespan / (tasks / throughput of all donors, saboteurs included, always online).',
);
const keys = [
  'f',
  's',
  'colluding',
  'tasks',
  'acceptedWrong',
  'acceptedWrongRate',
  'resultsPerTask',
  'resultsPerTaskAfterWarmup',
  'failedTasks',
  'makespanRatio',
] as const;
out(JSON.stringify({ cases: cases.map((r) => Object.fromEntries(keys.map((k) => [k, r[k]]))) }));

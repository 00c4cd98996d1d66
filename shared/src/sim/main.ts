/**
 * `npm run sim`: the attacker's test bench for verification, and the
 * scheduler's for lease windows. One job per case (adversary x saboteur
 * fraction f x donors x anchor x task time x window) drives the production
 * job engine on a virtual clock. Progress on stderr; one row per case, a
 * closing note and (last line) one JSON object on stdout.
 */
import { runSimulation } from './sim.ts';
import { parseSimArgs, SIM_HELP } from './sim-args.ts';
import { casesJson, MECHANISM_NOTE, type SimCase, tableHead, tableRow } from './sim-table.ts';

// The one Node-bound file of shared/: declared locally so shared/ still compiles without Node types.
declare const process: {
  argv: string[];
  exit(code: number): never;
  stdout: { write(s: string): void };
  stderr: { write(s: string): void };
};
declare const performance: { now(): number };
const out = (line: string) => process.stdout.write(`${line}\n`);

const args = parseSimArgs(process.argv.slice(2));
if (args === 'help') {
  out(SIM_HELP);
  process.exit(0);
}
if (typeof args === 'string') {
  process.stderr.write(`${args}\n${SIM_HELP}\n`);
  process.exit(2);
}

const policy = {
  ...(args.targetError !== undefined ? { targetError: args.targetError } : {}),
  ...(args.auditRate !== undefined ? { auditRate: args.auditRate } : {}),
};
const cases: SimCase[] = [];
// With no saboteurs the adversary is moot: one of them stands for all.
const adversariesAt = (f: number) => (f === 0 ? args.adversaries.slice(0, 1) : args.adversaries);
const total =
  args.f.reduce((n, f) => n + adversariesAt(f).length, 0) *
  args.donors.length *
  args.anchor.length *
  args.taskMs.length *
  args.windows.length *
  args.speedSpreads.length;
const started = performance.now();
for (const adversary of args.adversaries) {
  for (const f of args.f) {
    if (!adversariesAt(f).includes(adversary)) continue;
    for (const donors of args.donors) {
      for (const anchor of args.anchor) {
        for (const taskMs of args.taskMs) {
          for (const window of args.windows) {
            for (const speedSpread of args.speedSpreads) {
              const spread = speedSpread === undefined ? '' : ` spread=${speedSpread}x`;
              const label = `[${cases.length + 1}/${total}] ${adversary.name} f=${f} donors=${donors} anchor=${anchor ? 'yes' : 'no'} task=${taskMs}ms window=${window}${spread}`;
              process.stderr.write(`${label}: 0%`);
              const r = runSimulation({
                tasks: args.tasks,
                donors,
                f,
                adversary: adversary.strategy,
                s: adversary.s,
                anchor,
                taskMs,
                latencyMs: args.latencyMs,
                window,
                churn: args.churn,
                ...(speedSpread !== undefined ? { speedSpread } : {}),
                seed: args.seed,
                policy,
                onProgress: (done) =>
                  process.stderr.write(`\r${label}: ${Math.round(done * 100)}%   `),
              });
              const secs = ((performance.now() - started) / 1000).toFixed(1);
              process.stderr.write(
                `\r${label}: done, ${r.acceptedWrong} wrong (${secs} s in all)\n`,
              );
              cases.push({ adversary: adversary.name, ...r });
            }
          }
        }
      }
    }
  }
}

out(tableHead());
for (const c of cases) out(tableRow(c));
out(MECHANISM_NOTE);
out(casesJson(cases));

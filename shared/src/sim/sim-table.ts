/** `npm run sim`'s output: one row per case, the mechanism note, and the closing JSON line. */
import type { SimResult } from './sim.ts';

/** One case of a run: the adversary's name (e.g. `naive-0.1`) and its figures. */
export type SimCase = { readonly adversary: string } & SimResult;

interface Column {
  readonly head: string;
  readonly width: number;
  readonly cell: (c: SimCase) => string;
}

const fixed = (n: number, digits: number) => n.toFixed(digits);
const COLUMNS: readonly Column[] = [
  { head: 'adversary', width: 15, cell: (c) => c.adversary },
  { head: 'f', width: 4, cell: (c) => String(c.f) },
  { head: 'donors', width: 6, cell: (c) => String(c.donors) },
  { head: 'anchor', width: 6, cell: (c) => (c.anchor ? 'yes' : 'no') },
  { head: 'tasks', width: 6, cell: (c) => String(c.tasks) },
  { head: 'task ms', width: 7, cell: (c) => String(c.taskMs) },
  { head: 'window', width: 6, cell: (c) => c.window },
  { head: 'win', width: 5, cell: (c) => fixed(c.meanWindow, 1) },
  { head: 'wrong', width: 5, cell: (c) => String(c.acceptedWrong) },
  { head: 'wrongRate', width: 9, cell: (c) => c.acceptedWrongRate.toExponential(1) },
  { head: 'res/task', width: 8, cell: (c) => fixed(c.resultsPerTask, 3) },
  { head: 'afterWU', width: 7, cell: (c) => fixed(c.resultsPerTaskAfterWarmup, 3) },
  { head: 'excl.hon', width: 8, cell: (c) => String(c.excludedHonest) },
  {
    head: 'excl.sabIds',
    width: 11,
    cell: (c) => `${c.excludedSaboteurs}/${c.saboteurIdentities}`,
  },
  {
    head: 'audits i/p/f',
    width: 15,
    cell: (c) => `${c.audits.issued}/${c.audits.passed}/${c.audits.failed}`,
  },
  { head: 'failed', width: 6, cell: (c) => String(c.failedTasks) },
  { head: 'open', width: 4, cell: (c) => String(c.openTasks) },
  { head: 'makespan', width: 8, cell: (c) => fixed(c.makespanRatio, 2) },
  { head: 'mk/ideal', width: 8, cell: (c) => fixed(c.workRatio, 2) },
  {
    head: 'spread',
    width: 6,
    cell: (c) => (c.speedSpread === undefined ? '-' : `${c.speedSpread}x`),
  },
  { head: 'place', width: 5, cell: (c) => fixed(c.placementRatio, 2) },
  { head: 'lies', width: 5, cell: (c) => String(c.liesTold) },
  { head: 'caught', width: 6, cell: (c) => String(c.liesCaught) },
  { head: 'kept', width: 5, cell: (c) => String(c.liesKept) },
  { head: 'floor', width: 5, cell: (c) => (c.strategy === 'rare' ? String(c.liesFloor) : '-') },
];

const row = (cells: readonly string[]) =>
  cells.map((x, i) => x.padStart(COLUMNS[i]!.width)).join(' ');

export const tableHead = (): string => row(COLUMNS.map((c) => c.head));
export const tableRow = (c: SimCase): string => row(COLUMNS.map((col) => col.cell(c)));

export const MECHANISM_NOTE =
  "mechanisms (one default policy): every result carries a bound on the chance it is wrong, from its backers' " +
  'audited records (Sarmenta); a task grows until that bound is under 1e-4; hidden audits (one more lease of a ' +
  'fresh task: 10% of tasks, 50% of solo ones) on the wire like any lease; solo runs only after 920 confirmed ' +
  'results, with a chance capped at 0.3; a lost vote sends a donor to probation and re-checks all it backed; ' +
  'exclusion on anchor evidence or 3 losses against 3 credible donors, then everything it backed is weighed again. ' +
  'adversary: a cartel of f x donors sharing what it sees; an excluded ' +
  'saboteur rejoins under a fresh id after an offline spell (excl.sabIds = excluded / used saboteur identities). ' +
  'open = tasks left when the engine stalled (no result for 10 min); kept = lies in the accepted output; ' +
  'floor (rare) = lies on tasks no one but the liar got a lease of. makespan = virtual makespan / (tasks / ' +
  'throughput of all donors, saboteurs included, always online). mk/ideal = virtual makespan / the ideal for ' +
  'the results received (replicas and audits included) on donors that never pause, each from one link latency ' +
  'after it joined to its departure, results one latency from the submitter: what is left is idle slots ' +
  '(latency not hidden, queued leases, the tail, churn). spread = slowest / fastest donor task time, ' +
  'log-uniform (-: uniform 0.5-2x); place = virtual makespan / (compute of every result received, in ' +
  "speed-1 ms, / the donors' summed speed): placement efficiency, 1 = every slot busy to the end. " +
  'window: lease = leases per donor sized by leaseWindow ' +
  'from its measured round trip and compute time (win = mean at the end), fixed = one per slot (at most 4).';

/** The closing line: every case with all its figures. */
export const casesJson = (cases: readonly SimCase[]): string => JSON.stringify({ cases });

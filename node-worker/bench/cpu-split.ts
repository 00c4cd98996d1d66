/**
 * Where a bench run's CPU goes, by role: this process (the submitter and the
 * signaling server), the donor processes, and their ORT runner processes.
 * Reads /proc (Linux); elsewhere `snapshot` returns null and no split is printed.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** CPU ms by role since some earlier snapshot. */
export interface CpuSplit {
  readonly submitterMs: number;
  readonly donorsMs: number;
  readonly runnersMs: number;
}

type Snapshot = Map<number, { ppid: number; ms: number }>;

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on Linux). */
const USER_HZ = 100;

export function snapshot(): Snapshot | null {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  const out: Snapshot = new Map();
  for (const d of pids) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // Fields after "(comm)": state ppid … utime(14) stime(15), counted from 1.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(d), {
        ppid: Number(f[1]),
        ms: ((Number(f[11]) + Number(f[12])) * 1000) / USER_HZ,
      });
    } catch {
      // The process ended between readdir and read.
    }
  }
  return out;
}

/** CPU spent between two snapshots by this process, `donors` and the donors' children. */
export function split(before: Snapshot, after: Snapshot, donors: readonly number[]): CpuSplit {
  const used = (pid: number) => (after.get(pid)?.ms ?? 0) - (before.get(pid)?.ms ?? 0);
  const donorSet = new Set(donors);
  let donorsMs = 0;
  let runnersMs = 0;
  for (const [pid, p] of after) {
    if (donorSet.has(pid)) donorsMs += used(pid);
    else if (donorSet.has(p.ppid)) runnersMs += used(pid);
  }
  return { submitterMs: used(process.pid), donorsMs, runnersMs };
}

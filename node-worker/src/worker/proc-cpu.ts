/**
 * CPU time of a process and all its descendants (the worker and its
 * onnxruntime-node runners), read from /proc: utime + stime of each live
 * process, plus cutime + cstime (children already reaped). Linux only; null
 * elsewhere. Clock ticks are taken as 100 per second (USER_HZ on every
 * mainstream Linux architecture; Node has no sysconf).
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10;

interface Stat {
  readonly ppid: number;
  readonly ticks: number;
}

function readStat(pid: string): Stat | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
    const n = (i: number) => Number(f[i - 3]);
    return { ppid: n(4), ticks: n(14) + n(15) + n(16) + n(17) };
  } catch {
    return null; // gone meanwhile, or not Linux
  }
}

/** CPU ms of `pid` and its descendants so far; null when /proc cannot be read. */
export function treeCpuMs(pid: number = process.pid): number | null {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  const stats = new Map<number, Stat>();
  for (const p of pids) {
    const st = readStat(p);
    if (st) stats.set(Number(p), st);
  }
  const root = stats.get(pid);
  if (!root) return null;
  const children = new Map<number, number[]>();
  for (const [p, st] of stats) {
    const list = children.get(st.ppid);
    if (list) list.push(p);
    else children.set(st.ppid, [p]);
  }
  let ticks = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    ticks += stats.get(p)?.ticks ?? 0;
    for (const c of children.get(p) ?? []) stack.push(c);
  }
  return ticks * TICK_MS;
}

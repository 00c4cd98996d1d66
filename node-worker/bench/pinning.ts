/**
 * Roles on their own cores (Linux `taskset`): the submitter and signaling on
 * one core, every donor process with its runners on another, in the baseline
 * and in the grid run alike. This approximates separate machines: the grid
 * is charged for what a donor pays to take part, not for a submitter that
 * would really run elsewhere. Without taskset or with one core, nothing is
 * pinned and `pinning` says so.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

export interface Pinning {
  /** CPU list of the submitter (this process) and signaling, e.g. "0"; null when unpinned. */
  readonly submitter: string | null;
  /** CPU list of every donor process and its runners, e.g. "1"; null when unpinned. */
  readonly donors: string | null;
}

const UNPINNED: Pinning = { submitter: null, donors: null };

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Pins this process (all its threads) to the first core and chooses the last
 * core for donors. `off` or a single core: nothing is pinned.
 */
export function pinRoles(off = false): Pinning {
  const cores = availableParallelism();
  if (off || cores < 2 || process.platform !== 'linux' || !hasTaskset()) return UNPINNED;
  const submitter = '0';
  const donors = String(cores - 1);
  execFileSync('taskset', ['-a', '-pc', submitter, String(process.pid)], { stdio: 'ignore' });
  return { submitter, donors };
}

/** `[command, args]` that run `cmd args` on the donors' cores (children inherit it). */
export function onDonorCores(p: Pinning, cmd: string, args: readonly string[]): [string, string[]] {
  return p.donors === null ? [cmd, [...args]] : ['taskset', ['-c', p.donors, cmd, ...args]];
}

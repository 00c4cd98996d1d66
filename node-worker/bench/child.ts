/**
 * Bench child processes: a TypeScript entry run under tsx, pinned to the
 * donors' cores, that prints one JSON line on stdout when it is done.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onDonorCores, type Pinning } from './pinning.ts';

/** Starts `entry` (a file next to this one) with `args` on the donors' cores. */
export function spawnBenchChild(
  pinning: Pinning,
  entry: string,
  args: readonly string[],
  stdin: 'ignore' | 'pipe' = 'ignore',
): ChildProcess {
  const file = fileURLToPath(new URL(entry, import.meta.url));
  const [cmd, argv] = onDonorCores(pinning, process.execPath, ['--import', 'tsx', file, ...args]);
  return spawn(cmd, argv, { stdio: [stdin, 'pipe', 'inherit'] });
}

/** Every stdout line of a child, as it comes. */
export function onLines(child: ChildProcess, fn: (line: string) => void): void {
  let buf = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.trim()) fn(line);
    }
  });
}

/** The last JSON line a child printed before it exited 0. */
export function childResult<T>(child: ChildProcess): Promise<T> {
  let last = '';
  onLines(child, (line) => {
    last = line;
  });
  return new Promise<T>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`bench child exited with ${code}`));
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`bench child printed no JSON: ${last.slice(0, 200)}`));
      }
    });
  });
}

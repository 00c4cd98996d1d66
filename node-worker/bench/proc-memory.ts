/** What the memory benchmarks read of a child process: its memory from /proc, its exit. */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface MemorySample {
  /** VmRSS, MB. */
  rssMB: number;
  /** RssAnon: the process's own memory, MB. */
  anonMB: number;
  /** RssFile: mapped files (libraries, LMDB's pages), MB. */
  fileMB: number;
}

/** VmRSS, RssAnon, RssFile of a live process, MB; null once it is gone. */
export function sampleMemory(pid: number): MemorySample | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
    return {
      rssMB: kb('VmRSS') / 1024,
      anonMB: kb('RssAnon') / 1024,
      fileMB: kb('RssFile') / 1024,
    };
  } catch {
    return null;
  }
}

/** Resolves with the child's exit code (at once when it has exited). */
export const exited = (c: ChildProcess): Promise<number | null> =>
  new Promise((r) => {
    if (c.exitCode !== null) r(c.exitCode);
    else c.once('exit', (code) => r(code));
  });

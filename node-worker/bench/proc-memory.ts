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

/**
 * Follows a `peergrid run` child's stderr: shows its progress line at most
 * every 5 s through `say`; `summary()` is its closing `summary {…}` JSON text
 * ('' until it printed one).
 */
export function followCli(cli: ChildProcess, say: (line: string) => void): { summary(): string } {
  let summary = '';
  let lastShown = 0;
  cli.stderr?.setEncoding('utf8');
  cli.stderr?.on('data', (d: string) => {
    for (const line of d.split(/\r|\n/)) {
      if (line.startsWith('summary ')) summary = line.slice('summary '.length);
      else if (/verified/.test(line) && performance.now() - lastShown > 5000) {
        lastShown = performance.now();
        say(`  ${line.trim()}`);
      }
    }
  });
  return { summary: () => summary };
}

/**
 * Samples a live process's memory every `everyMs` and keeps the peaks;
 * `stop()` ends it. `anonPeakAt` is when its own memory last peaked
 * (performance.now()).
 */
export function watchPeak(pid: number, everyMs: number) {
  const peak: MemorySample = { rssMB: 0, anonMB: 0, fileMB: 0 };
  let anonPeakAt = 0;
  const timer = setInterval(() => {
    const s = sampleMemory(pid);
    if (!s) return;
    if (s.anonMB > peak.anonMB) anonPeakAt = performance.now();
    peak.rssMB = Math.max(peak.rssMB, s.rssMB);
    peak.anonMB = Math.max(peak.anonMB, s.anonMB);
    peak.fileMB = Math.max(peak.fileMB, s.fileMB);
  }, everyMs);
  return {
    peak,
    anonPeakAt: () => anonPeakAt,
    stop: () => clearInterval(timer),
  };
}

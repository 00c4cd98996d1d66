/**
 * Child processes of a test (signaling server, node workers): output kept
 * for failure reports, lines awaited by pattern, and every child killed at
 * teardown even when the test failed.
 */
import { type ChildProcess, spawn } from 'node:child_process';

/** Lines of output kept per child for failure reports. Default 400. */
export const LOG_LINES = 400;

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  /** Recent output lines (stdout and stderr), oldest first. */
  readonly log: readonly string[];
  /** True once the process has exited. */
  readonly exited: boolean;
  /** Resolves with the first match of `pattern` in the output (past or future). */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** Sends a signal and waits for the exit (SIGKILL after `graceMs`). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Echo output lines to this process's stderr (PEERGRID_E2E_VERBOSE=1 turns it on for all). */
  readonly echo?: boolean;
}

/** Every child started through {@link spawnChild} and not yet reaped. */
const live = new Set<Child>();

export function spawnChild(
  name: string,
  cmd: string,
  args: readonly string[],
  o: SpawnOptions = {},
): Child {
  const proc = spawn(cmd, [...args], {
    cwd: o.cwd,
    env: { ...process.env, ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  const waiters = new Set<() => void>();
  const echo = o.echo ?? process.env.PEERGRID_E2E_VERBOSE === '1';
  let exited = false;
  const onData = (buf: Buffer) => {
    for (const line of buf.toString('utf8').split('\n')) {
      if (!line) continue;
      log.push(line);
      if (log.length > LOG_LINES) log.shift();
      if (echo) process.stderr.write(`[${name}] ${line}\n`);
    }
    for (const w of waiters) w();
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  const exitPromise = new Promise<void>((resolve) => {
    proc.once('exit', (code, sig) => {
      exited = true;
      log.push(`(exited: ${sig ?? code})`);
      live.delete(child);
      for (const w of waiters) w();
      resolve();
    });
  });
  const child: Child = {
    name,
    proc,
    log,
    get exited() {
      return exited;
    },
    waitFor(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        let seen = 0;
        const check = () => {
          for (; seen < log.length; seen++) {
            const m = pattern.exec(log[seen] as string);
            if (m) {
              done();
              return resolve(m);
            }
          }
          // Lines may have been shifted out of the ring buffer; keep scanning from its end.
          seen = Math.min(seen, log.length);
          if (exited) {
            done();
            reject(new Error(`${name} exited before printing ${pattern}:\n${tail(log)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name} did not print ${pattern} in ${timeoutMs} ms:\n${tail(log)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM', graceMs = 5000) {
      if (exited) return;
      proc.kill(signal);
      const timer = setTimeout(() => {
        if (!exited) proc.kill('SIGKILL');
      }, graceMs);
      await exitPromise;
      clearTimeout(timer);
    },
  };
  live.add(child);
  return child;
}

/** Last lines of a log, for error messages. */
export function tail(log: readonly string[], n = 30): string {
  return log.slice(-n).join('\n');
}

/** Kills every child still running (teardown; also on process exit). */
export async function killAllChildren(): Promise<void> {
  await Promise.all([...live].map((c) => c.stop('SIGKILL', 0)));
}

process.once('exit', () => {
  for (const c of live) c.proc.kill('SIGKILL');
});

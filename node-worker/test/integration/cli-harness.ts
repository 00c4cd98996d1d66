/**
 * The `peergrid` CLI as a child process, for integration tests: its stderr,
 * its exit code, and the `summary {json}` line it ends with.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type DType, type TensorMap, tensorFrom } from '@peergrid/shared';
import type { JsonTensor } from '../../src/cli/results-file.ts';
import type { RunSummary } from '../../src/cli/run-summary.ts';

export const CLI = fileURLToPath(new URL('../../bin/peergrid.js', import.meta.url));

export interface CliRun {
  readonly child: ChildProcess;
  readonly stderr: () => string;
  readonly stdout: () => string;
  readonly exit: Promise<number | null>;
}

export function cli(args: readonly string[], cwd: string): CliRun {
  let text = '';
  const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    text += d;
  });
  let out = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => {
    out += d;
  });
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, stderr: () => text, stdout: () => out, exit };
}

/** The run's `summary {json}` line, parsed; null when it printed none. */
export function summaryOf(stderr: string): RunSummary | null {
  const line = stderr.split('\n').find((l) => l.startsWith('summary '));
  return line === undefined ? null : (JSON.parse(line.slice('summary '.length)) as RunSummary);
}

const ARRAYS = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
} as const;

/** The tasks of an `--out` file as tensors again (int64 excepted: none of the workloads has one). */
export function readResultsFile(path: string): Map<string, TensorMap> {
  const file = JSON.parse(readFileSync(path, 'utf8')) as {
    tasks: Record<string, Record<string, JsonTensor>>;
  };
  const out = new Map<string, TensorMap>();
  for (const [id, outputs] of Object.entries(file.tasks)) {
    const m: Record<string, TensorMap[string]> = {};
    for (const [name, t] of Object.entries(outputs)) {
      const dtype = t.dtype as DType;
      if (dtype === 'int64') throw new Error(`task ${id} output ${name}: int64 is not read back`);
      m[name] = tensorFrom(dtype, t.dims, ARRAYS[dtype].from(t.data as number[]));
    }
    out.set(id, m);
  }
  return out;
}

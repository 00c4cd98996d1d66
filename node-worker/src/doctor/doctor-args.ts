/** `peergrid-worker doctor` flags → options, with the usage text. */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { NODE_BACKENDS, type NodeBackend } from '../exec/detect-backends.ts';
import { BENCH_PRESETS, type BenchPreset } from './self-bench.ts';

export interface DoctorOptions {
  /** The backend the worker would be started with; 'auto' = any. Default 'auto'. */
  readonly backend: 'auto' | NodeBackend;
  /** Self-benchmark time per backend, s; 0 skips it. Default 5. */
  readonly seconds: number;
  /** Runners in the benchmark, as the worker's --concurrency. Default: available cores. */
  readonly concurrency: number;
  /** Benchmark task size. Default 'ms2'. */
  readonly preset: BenchPreset;
  /** The report as one JSON object on stdout instead of text. Default false. */
  readonly json: boolean;
}

/** Longest benchmark accepted, s. */
export const MAX_BENCH_SECONDS = 600;

export const DOCTOR_USAGE = `peergrid-worker doctor [--backend auto|cpu|cuda|wasm] [--seconds N] [options]

Checks what this machine can run before it joins a grid: each backend (cpu and
cuda through onnxruntime-node, wasm through onnxruntime-web) is loaded for real
in a child process, and when one does not load the report names the missing
piece (no NVIDIA driver, onnxruntime-node without its CUDA binaries, a missing
libcudnn or libcublas, a driver too old for CUDA 12). Then each working backend
runs a bundled matmul model for a few seconds and reports tasks/s.

  --backend B        auto | cpu | cuda | wasm               default: auto
                     the backend you will start the worker with: doctor exits 1
                     when it cannot run (auto: when none can); a named backend
                     is the only one benchmarked, auto benchmarks all that run
  --seconds N        self-benchmark per backend, seconds    default: 5 (0: none)
  --concurrency N    tasks run at once in the benchmark     default: cores
  --preset P         benchmark task: ${BENCH_PRESETS.join(' | ')}      default: ms2
  --json             the report as one JSON object on stdout
  -h, --help         this help

Progress goes to stderr. Exit codes: 0 the backend runs, 1 it does not, 2 bad usage.`;

export type ParsedDoctorArgs =
  | { readonly kind: 'help' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'ok'; readonly options: DoctorOptions };

const BACKENDS = ['auto', ...NODE_BACKENDS] as const;

export function parseDoctorArgs(argv: readonly string[]): ParsedDoctorArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        backend: { type: 'string', default: 'auto' },
        seconds: { type: 'string', default: '5' },
        concurrency: { type: 'string' },
        preset: { type: 'string', default: 'ms2' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return { kind: 'error', message: (err as Error).message };
  }
  if (values.help) return { kind: 'help' };
  const backend = BACKENDS.find((b) => b === values.backend);
  if (!backend)
    return { kind: 'error', message: `--backend must be one of ${BACKENDS.join(', ')}` };
  const seconds = Number(values.seconds);
  if (!(Number.isFinite(seconds) && seconds >= 0 && seconds <= MAX_BENCH_SECONDS)) {
    return { kind: 'error', message: `--seconds must be a number from 0 to ${MAX_BENCH_SECONDS}` };
  }
  const concurrencyText = values.concurrency as string | undefined;
  const concurrency =
    concurrencyText === undefined ? availableParallelism() : Number(concurrencyText);
  if (!(Number.isInteger(concurrency) && concurrency >= 1)) {
    return { kind: 'error', message: '--concurrency must be an integer >= 1' };
  }
  const preset = BENCH_PRESETS.find((p) => p === values.preset);
  if (!preset)
    return { kind: 'error', message: `--preset must be one of ${BENCH_PRESETS.join(', ')}` };
  return {
    kind: 'ok',
    options: { backend, seconds, concurrency, preset, json: values.json === true },
  };
}

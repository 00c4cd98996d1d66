/**
 * `peergrid-worker doctor`: the facts of the machine, a real load of each
 * backend, one line on why a backend does not run, and a self-benchmark of
 * those that do. Everything that touches the machine comes in through
 * `DoctorDeps`, so a test can play a GPU box whose CUDA provider fails.
 */
import { NODE_BACKENDS, type NodeBackend } from '../exec/detect-backends.ts';
import { type BackendStatus, diagnoseCpu, diagnoseCuda, diagnoseWasm } from './diagnose.ts';
import { DOCTOR_USAGE, type DoctorOptions, parseDoctorArgs } from './doctor-args.ts';
import { type DoctorReport, formatReport } from './doctor-report.ts';
import { gatherHostFacts, type HostFacts } from './host-facts.ts';
import { type ProbeBackend, probeBackend } from './probe-backend.ts';
import { type BenchOptions, type BenchResult, runSelfBench } from './self-bench.ts';

export interface DoctorDeps {
  readonly facts: () => Promise<HostFacts>;
  readonly probe: ProbeBackend;
  readonly bench: (o: BenchOptions) => Promise<BenchResult>;
  /** The report goes here (stdout). */
  readonly out: (text: string) => void;
  /** Progress goes here (stderr). */
  readonly progress: (text: string) => void;
  /** Progress redraws one line in place (a terminal) instead of printing a line a second. */
  readonly tty: boolean;
}

export const realDoctorDeps: DoctorDeps = {
  facts: () => gatherHostFacts(),
  probe: probeBackend,
  bench: runSelfBench,
  out: (t) => process.stdout.write(t),
  progress: (t) => process.stderr.write(t),
  tty: process.stderr.isTTY === true,
};

/** Reports bench progress: in place on a terminal, else a line per whole second. */
function benchProgress(deps: DoctorDeps, backend: NodeBackend, seconds: number) {
  let lastWhole = -1;
  return {
    tick(elapsed: number, tasks: number) {
      const shown = Math.min(elapsed, seconds);
      if (deps.tty) {
        const width = 20;
        const filled = Math.round((shown / seconds) * width);
        deps.progress(
          `\r  ${backend.padEnd(5)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${shown.toFixed(1)}/${seconds} s  ${tasks} tasks`,
        );
      } else if (Math.floor(shown) > lastWhole) {
        lastWhole = Math.floor(shown);
        deps.progress(`doctor: bench ${backend} ${lastWhole}/${seconds} s, ${tasks} tasks\n`);
      }
    },
    done() {
      if (deps.tty) deps.progress('\n');
    },
  };
}

/** Runs the checks; returns the report and the exit code (0 ok, 1 not). */
export async function runDoctor(
  o: DoctorOptions,
  deps: DoctorDeps,
): Promise<{ readonly report: DoctorReport; readonly code: number }> {
  deps.progress('doctor: looking at the machine …\n');
  const facts = await deps.facts();
  deps.progress('doctor: loading cpu …\n');
  const cpu = diagnoseCpu(facts, await deps.probe('cpu'));
  // Without the provider files a load attempt can only fail the same way.
  const tryCuda =
    facts.platform === 'linux/x64' && cpu.ok && facts.ort.providerMissing.length === 0;
  if (tryCuda) deps.progress('doctor: loading cuda …\n');
  const cuda = diagnoseCuda(facts, tryCuda ? await deps.probe('cuda') : undefined, cpu);
  deps.progress('doctor: loading wasm …\n');
  const wasm = diagnoseWasm(facts, await deps.probe('wasm'));
  const byName: Record<NodeBackend, BackendStatus> = { cpu, cuda, wasm };
  const backends = [cpu, cuda, wasm];
  // The worker's 'auto' takes the best that runs (NODE_BACKENDS is best first).
  const wouldUse =
    o.backend === 'auto'
      ? (NODE_BACKENDS.find((b) => byName[b].ok) ?? null)
      : byName[o.backend].ok
        ? o.backend
        : null;
  const targets =
    o.seconds <= 0
      ? []
      : o.backend === 'auto'
        ? NODE_BACKENDS.filter((b) => byName[b].ok)
        : wouldUse
          ? [wouldUse]
          : [];
  const bench: BenchResult[] = [];
  const benchErrors: { backend: NodeBackend; message: string }[] = [];
  for (const backend of targets) {
    deps.progress(`doctor: benchmarking ${backend} for ${o.seconds} s …\n`);
    const shown = benchProgress(deps, backend, o.seconds);
    try {
      bench.push(
        await deps.bench({
          backend,
          seconds: o.seconds,
          concurrency: o.concurrency,
          preset: o.preset,
          onProgress: shown.tick,
        }),
      );
    } catch (err) {
      benchErrors.push({ backend, message: (err as Error).message });
    } finally {
      shown.done();
    }
  }
  const benchFailed = benchErrors.find((e) => e.backend === wouldUse);
  let problem: string | null = null;
  if (wouldUse === null) {
    problem =
      o.backend === 'auto'
        ? `no backend runs here: ${backends.map((b) => `${b.backend}: ${b.why}`).join('; ')}`
        : `--backend ${o.backend} cannot run here: ${byName[o.backend].why}`;
  } else if (benchFailed) {
    problem = `${wouldUse} loads, but its benchmark failed: ${benchFailed.message}`;
  }
  const report: DoctorReport = {
    host: facts,
    backends,
    bench,
    benchErrors,
    asked: o.backend,
    wouldUse,
    ok: problem === null,
    problem,
  };
  deps.out(o.json ? `${JSON.stringify(report)}\n` : `${formatReport(report)}\n`);
  return { report, code: report.ok ? 0 : 1 };
}

/** The `peergrid-worker doctor` command; resolves to the exit code. */
export async function doctorMain(
  argv: readonly string[],
  deps: DoctorDeps = realDoctorDeps,
): Promise<number> {
  const parsed = parseDoctorArgs(argv);
  if (parsed.kind === 'help') {
    deps.out(`${DOCTOR_USAGE}\n`);
    return 0;
  }
  if (parsed.kind === 'error') {
    deps.progress(`peergrid-worker doctor: ${parsed.message}\n\n${DOCTOR_USAGE}\n`);
    return 2;
  }
  try {
    return (await runDoctor(parsed.options, deps)).code;
  } catch (err) {
    deps.progress(`peergrid-worker doctor: failed: ${(err as Error).message}\n`);
    return 1;
  }
}

/** The doctor's report: the value (also printed as JSON) and its text form. */
import { CUDA_INSTALL_COMMAND, type NodeBackend } from '../exec/detect-backends.ts';
import type { BackendStatus } from './diagnose.ts';
import type { HostFacts } from './host-facts.ts';
import type { BenchResult } from './self-bench.ts';

export interface DoctorReport {
  readonly host: HostFacts;
  readonly backends: readonly BackendStatus[];
  /** Self-benchmarks run, one per backend benchmarked. */
  readonly bench: readonly BenchResult[];
  /** Benchmarks that failed, with the error. */
  readonly benchErrors: readonly { readonly backend: NodeBackend; readonly message: string }[];
  /** The backend asked for (--backend). */
  readonly asked: 'auto' | NodeBackend;
  /** What `peergrid-worker --backend <asked>` would run on; null when nothing. */
  readonly wouldUse: NodeBackend | null;
  /** The asked-for backend runs (auto: one does), and its benchmark did not fail. */
  readonly ok: boolean;
  /** When not ok: why, in one line. */
  readonly problem: string | null;
}

const GiB = 2 ** 30;

function gpuLine(h: HostFacts): string {
  const g = h.gpu;
  if (g.kind === 'found') {
    return g.devices
      .map(
        (d) =>
          `#${d.index} ${d.name}, ${(d.memoryMiB / 1024).toFixed(1)} GiB memory, driver ${g.driver}`,
      )
      .join('\n      ');
  }
  if (g.kind === 'driver-only')
    return `NVIDIA driver ${g.driver ?? '?'} loaded; no nvidia-smi to name the devices`;
  return `none: ${g.reason}`;
}

function cudaChecks(h: HostFacts): string[] {
  const g = h.gpu;
  const driver =
    g.kind === 'found'
      ? `${g.driver} (${g.devices.length} device${g.devices.length === 1 ? '' : 's'})`
      : g.kind === 'driver-only'
        ? `${g.driver ?? 'loaded, version unknown'} (no nvidia-smi)`
        : g.kind === 'none'
          ? 'none'
          : g.reason;
  const o = h.ort;
  const provider =
    o.providerMissing.length === 0
      ? `present in ${o.binDir}`
      : `absent: ${o.providerMissing.join(', ')}${o.binDir ? ` in ${o.binDir}` : ''} (get them with ${CUDA_INSTALL_COMMAND})`;
  const libs =
    o.cudaLibsMissing === null
      ? o.providerMissing.length > 0
        ? 'not checked (needs the provider files)'
        : 'not checked (no ldd)'
      : o.cudaLibsMissing.length === 0
        ? 'all found (ldd)'
        : `not found: ${o.cudaLibsMissing.join(', ')}`;
  return [
    'CUDA checks (onnxruntime-node needs CUDA 12 and cuDNN 9)',
    `  driver      ${driver}`,
    `  provider    ${provider}`,
    `  libraries   ${libs}`,
  ];
}

const pad = (s: string, n: number) => s.padEnd(n);

/** The report as text, for a person. */
export function formatReport(r: DoctorReport): string {
  const h = r.host;
  const lines = [
    `peergrid-worker doctor: node ${h.node} on ${h.platform}, onnxruntime-node ${h.ort.nodeVersion ?? 'not installed'}, onnxruntime-web ${h.ort.webVersion ?? 'not installed'}`,
    '',
    `CPU   ${h.cpu.model}, ${h.cpu.cores} cores${h.cpu.features.length ? ` (${h.cpu.features.join(', ')})` : ''}, ${(h.cpu.memoryBytes / GiB).toFixed(1)} GiB memory`,
    `GPU   ${gpuLine(h)}`,
    '',
    `${pad('backend', 9)}${pad('runs', 6)}why`,
    ...r.backends.map((b) => `${pad(b.backend, 9)}${pad(b.ok ? 'yes' : 'no', 6)}${b.why}`),
    '',
    ...cudaChecks(h),
  ];
  if (r.bench.length > 0 || r.benchErrors.length > 0) {
    const first = r.bench[0];
    lines.push(
      '',
      first
        ? `self-benchmark (${first.preset}, concurrency ${first.concurrency}; session start not timed)`
        : 'self-benchmark',
    );
    for (const b of r.bench) {
      lines.push(
        `  ${pad(b.backend, 7)}${b.tasksPerSec.toFixed(1).padStart(9)} tasks/s  (${b.tasks} tasks in ${b.seconds.toFixed(1)} s; sessions ready in ${Math.round(b.warmupMs)} ms)`,
      );
    }
    for (const e of r.benchErrors) lines.push(`  ${pad(e.backend, 7)}failed: ${e.message}`);
  }
  lines.push(
    '',
    r.ok
      ? `ok: peergrid-worker --backend ${r.asked} runs on ${r.wouldUse}`
      : `not ok: ${r.problem ?? 'unknown'}`,
  );
  return lines.join('\n');
}

/**
 * From facts and probes to one line per backend: does it run, and if not,
 * the missing piece, named so an operator knows what to install. Pure: the
 * tests feed it the facts of a GPU box and the very messages onnxruntime-node
 * prints when a CUDA library is missing.
 */
import { CUDA_INSTALL_COMMAND, type NodeBackend } from '../exec/detect-backends.ts';
import type { GpuFacts, HostFacts } from './host-facts.ts';
import type { ProbeResult } from './probe-backend.ts';

export interface BackendStatus {
  readonly backend: NodeBackend;
  readonly ok: boolean;
  /** One line: what runs, or what is missing and how to get it. */
  readonly why: string;
  /** The device it runs on, where knowable. */
  readonly device: string;
}

/** Oldest Linux driver for CUDA 12.x (minor version compatibility), per NVIDIA's release notes. */
export const CUDA12_MIN_DRIVER = '525.60.13';

const GiB = 2 ** 30;
const gib = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;

/** Compares dotted versions numerically: < 0 when a is older. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** What to install for a library the CUDA provider cannot load. */
export function cudaLibraryHint(lib: string): string {
  if (/^libcudnn/.test(lib)) return 'cuDNN 9 for CUDA 12 (Debian/Ubuntu package libcudnn9-cuda-12)';
  if (/^libcublas/.test(lib)) return 'cuBLAS of CUDA 12 (libcublas-12-x)';
  if (/^libcudart/.test(lib)) return 'the CUDA 12 runtime (cuda-cudart-12-x)';
  if (/^libcufft/.test(lib)) return 'cuFFT of CUDA 12 (libcufft-12-x)';
  if (/^libcurand/.test(lib)) return 'cuRAND of CUDA 12 (libcurand-12-x)';
  if (/^libcuda\.so/.test(lib)) return 'the NVIDIA driver (libcuda.so.1 comes with it)';
  if (/^libonnxruntime_providers/.test(lib))
    return `onnxruntime-node's CUDA binaries: ${CUDA_INSTALL_COMMAND}`;
  return 'the CUDA 12 runtime libraries';
}

function missingLibsLine(libs: readonly string[]): string {
  const hints = [...new Set(libs.map(cudaLibraryHint))];
  return `missing ${libs.join(', ')}: install ${hints.join('; ')}`;
}

/** The library named in ORT's "Failed to load library X with error: Y: cannot open shared object file". */
export function libraryFromLoadError(text: string): string | null {
  const m = /with error:\s*(?:\S*\/)?([^\s/:]+\.so[.\d]*): cannot open shared object file/.exec(
    text,
  );
  return m?.[1] ?? null;
}

const firstLine = (s: string) =>
  (s.split('\n').find((l) => l.trim() !== '') ?? '').trim().slice(0, 240);

/** The cpu backend: onnxruntime-node's CPU execution provider. */
export function diagnoseCpu(facts: HostFacts, probe: ProbeResult): BackendStatus {
  const c = facts.cpu;
  const features = c.features.length > 0 ? ` (${c.features.join(', ')})` : '';
  const device = `${c.model}, ${c.cores} cores${features}, ${gib(c.memoryBytes)} memory`;
  if (probe.ok) {
    return {
      backend: 'cpu',
      ok: true,
      why: `onnxruntime-node ${facts.ort.nodeVersion ?? '?'}, CPU execution provider`,
      device,
    };
  }
  const text = `${probe.message}\n${probe.log}`;
  const glibc = /GLIBC_(\d+\.\d+)' not found/.exec(text);
  const why = glibc
    ? `onnxruntime-node's native library needs glibc ${glibc[1]} or newer, older here: ${firstLine(probe.message)}`
    : /not installed|Cannot find (module|package)/.test(text)
      ? 'onnxruntime-node is not installed: run npm ci in the repository'
      : `onnxruntime-node does not load (${probe.stage}): ${firstLine(probe.message)}`;
  return { backend: 'cpu', ok: false, why, device };
}

/** The wasm backend: onnxruntime-web's WASM build, on the CPU. */
export function diagnoseWasm(facts: HostFacts, probe: ProbeResult): BackendStatus {
  const device = `${facts.cpu.model} (WASM, 1 thread per runner)`;
  if (probe.ok) {
    return {
      backend: 'wasm',
      ok: true,
      why: `onnxruntime-web ${facts.ort.webVersion ?? '?'}, WASM`,
      device,
    };
  }
  const why = /not installed|Cannot find (module|package)/.test(probe.message)
    ? 'onnxruntime-web is not installed: run npm ci in the repository'
    : `onnxruntime-web does not run (${probe.stage}): ${firstLine(probe.message)}`;
  return { backend: 'wasm', ok: false, why, device };
}

function gpuDevice(gpu: GpuFacts): string {
  if (gpu.kind === 'found') {
    const [d, ...more] = gpu.devices;
    const extra = more.length > 0 ? ` (+${more.length} more)` : '';
    return d
      ? `${d.name}, ${gib(d.memoryMiB * 2 ** 20)}, driver ${gpu.driver}${extra}`
      : 'no device';
  }
  if (gpu.kind === 'driver-only')
    return `NVIDIA driver ${gpu.driver ?? '?'} (no nvidia-smi to name the device)`;
  return 'none';
}

function driverOf(gpu: GpuFacts): string | null {
  return gpu.kind === 'found' ? gpu.driver : gpu.kind === 'driver-only' ? gpu.driver : null;
}

/**
 * Why CUDA does not run, in the order an operator fixes things: the
 * platform, the driver and device, onnxruntime-node's CUDA binaries, the
 * CUDA and cuDNN libraries, then whatever the load attempt said. A probe
 * that succeeded wins over every fact (`probe` is absent when it was not
 * worth trying: the provider files are missing).
 */
export function diagnoseCuda(
  facts: HostFacts,
  probe: ProbeResult | undefined,
  cpu: BackendStatus,
): BackendStatus {
  const device = gpuDevice(facts.gpu);
  const no = (why: string): BackendStatus => ({ backend: 'cuda', ok: false, why, device });
  if (facts.platform !== 'linux/x64') {
    return no(
      `onnxruntime-node has a CUDA execution provider for linux/x64 only (this is ${facts.platform})`,
    );
  }
  if (!cpu.ok) return no('onnxruntime-node does not load (see cpu)');
  if (probe?.ok) {
    return {
      backend: 'cuda',
      ok: true,
      why: `onnxruntime-node ${facts.ort.nodeVersion ?? '?'}, CUDA execution provider`,
      device,
    };
  }
  const gpu = facts.gpu;
  if (gpu.kind === 'none') {
    return no(
      `no NVIDIA driver (${gpu.reason}): install the driver; in Docker, run with --gpus all`,
    );
  }
  if (gpu.kind === 'error') return no(gpu.reason);
  const driver = driverOf(gpu);
  if (driver && compareVersions(driver, CUDA12_MIN_DRIVER) < 0) {
    return no(
      `NVIDIA driver ${driver} is too old for CUDA 12 (needs ${CUDA12_MIN_DRIVER} or newer)`,
    );
  }
  if (facts.ort.providerMissing.length > 0) {
    return no(
      `onnxruntime-node is installed without its CUDA binaries (${facts.ort.providerMissing.join(', ')} absent): run ${CUDA_INSTALL_COMMAND}`,
    );
  }
  const libs = facts.ort.cudaLibsMissing ?? [];
  if (libs.length > 0) return no(missingLibsLine(libs));
  if (!probe) return no('not tried');
  const text = `${probe.message}\n${probe.log}`;
  const lib = libraryFromLoadError(text);
  if (lib) return no(missingLibsLine([lib]));
  if (/no CUDA-capable device|CUDA failure 100\b|cudaErrorNoDevice/i.test(text)) {
    return no(
      'no CUDA device is visible to this process (check CUDA_VISIBLE_DEVICES; in Docker, --gpus all)',
    );
  }
  if (/driver version is insufficient|CUDA failure 35\b|cudaErrorInsufficientDriver/i.test(text)) {
    return no(
      `the NVIDIA driver${driver ? ` ${driver}` : ''} is too old for this CUDA runtime (needs ${CUDA12_MIN_DRIVER} or newer for CUDA 12)`,
    );
  }
  if (/out of memory|CUDA failure 2\b/i.test(text)) return no('the GPU is out of memory');
  const logLine = probe.log.split('\n').find((l) => /\b(FAIL|ERROR|error)\b/.test(l));
  return no(
    `the CUDA execution provider failed (${probe.stage}): ${firstLine(logLine ?? probe.message)}`,
  );
}

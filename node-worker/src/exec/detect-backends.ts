/**
 * Which ONNX Runtime backends this machine can use, best first. Probed once
 * per process: onnxruntime-node (CPU, and CUDA when its provider library is
 * installed and an NVIDIA driver is loaded) and onnxruntime-web's WASM build,
 * which runs anywhere. `peergrid-worker doctor` goes further: it loads each
 * backend for real and says why one does not (src/doctor/).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Backend } from '@peergrid/shared';

/** The backends a node worker can run, best first; declared once. */
export const NODE_BACKENDS = ['cuda', 'cpu', 'wasm'] as const satisfies readonly Backend[];
export type NodeBackend = (typeof NODE_BACKENDS)[number];

export interface BackendReport {
  readonly backends: readonly Backend[];
  /** Why a backend is missing, for a clear message when one is asked for. */
  readonly missing: Readonly<Partial<Record<Backend, string>>>;
}

const require = createRequire(import.meta.url);
let cached: Promise<BackendReport> | undefined;

/**
 * The command that fetches onnxruntime-node's CUDA binaries into an existing
 * install (its own install script, which `npm ci` skips here: see README).
 */
export const CUDA_INSTALL_COMMAND =
  'ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js';

/** The provider libraries onnxruntime-node's install script fetches for CUDA 12. */
export const CUDA_PROVIDER_FILES = [
  'libonnxruntime_providers_cuda.so',
  'libonnxruntime_providers_shared.so',
] as const;

/** Where onnxruntime-node keeps its native libraries for this platform; null when it is not installed. */
export function ortNodeBinDir(): string | null {
  try {
    const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
    return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return null;
  }
}

/** Provider files that are absent (all of them when onnxruntime-node is not installed). */
export function missingCudaProviderFiles(binDir = ortNodeBinDir()): string[] {
  if (binDir === null) return [...CUDA_PROVIDER_FILES];
  return CUDA_PROVIDER_FILES.filter((f) => !existsSync(join(binDir, f)));
}

/** Paths that exist when an NVIDIA kernel driver is loaded (and, in a container, passed in). */
export const NVIDIA_DRIVER_PATHS = ['/proc/driver/nvidia/version', '/dev/nvidiactl'] as const;

export function nvidiaDriverLoaded(exists: (p: string) => boolean = existsSync): boolean {
  return NVIDIA_DRIVER_PATHS.some((p) => exists(p));
}

async function probe(): Promise<BackendReport> {
  const backends: Backend[] = [];
  const missing: Partial<Record<Backend, string>> = {
    webgpu: 'WebGPU is offered by browser donors only',
  };
  let cpu = false;
  try {
    await import('onnxruntime-node');
    cpu = true;
  } catch (err) {
    missing.cpu = `onnxruntime-node failed to load: ${(err as Error).message}`;
  }
  const absent = missingCudaProviderFiles();
  if (!cpu) missing.cuda = 'onnxruntime-node is not available';
  else if (process.platform !== 'linux' || process.arch !== 'x64') {
    missing.cuda = `onnxruntime-node has a CUDA execution provider for linux/x64 only (this is ${process.platform}/${process.arch})`;
  } else if (absent.length > 0) {
    missing.cuda =
      `onnxruntime-node is installed without its CUDA binaries (${absent.join(', ')} absent): ` +
      `run ${CUDA_INSTALL_COMMAND} on a machine with CUDA 12 and cuDNN 9`;
  } else if (!nvidiaDriverLoaded()) {
    missing.cuda = `no NVIDIA driver is loaded (${NVIDIA_DRIVER_PATHS.join(' and ')} are absent)`;
  } else backends.push('cuda');
  if (cpu) backends.push('cpu');
  try {
    require.resolve('onnxruntime-web');
    backends.push('wasm');
  } catch (err) {
    missing.wasm = `onnxruntime-web is not installed: ${(err as Error).message}`;
  }
  return { backends, missing };
}

/** Probes (once) which backends work here. Run `peergrid-worker doctor` for why one does not. */
export function detectBackends(): Promise<BackendReport> {
  cached ??= probe();
  return cached;
}

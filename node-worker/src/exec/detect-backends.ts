/**
 * Which ONNX Runtime backends this machine can use, best first. Probed once
 * per process: onnxruntime-node (CPU, and CUDA when its provider library is
 * installed) and onnxruntime-web's WASM build, which runs anywhere.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Backend } from '@peergrid/shared';

export interface BackendReport {
  readonly backends: readonly Backend[];
  /** Why a backend is missing, for a clear message when one is asked for. */
  readonly missing: Readonly<Partial<Record<Backend, string>>>;
}

const require = createRequire(import.meta.url);
let cached: Promise<BackendReport> | undefined;

function cudaProviderPath(): string | null {
  try {
    const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
    const lib = join(
      pkg,
      'bin',
      'napi-v6',
      process.platform,
      process.arch,
      'libonnxruntime_providers_cuda.so',
    );
    return existsSync(lib) ? lib : null;
  } catch {
    return null;
  }
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
  if (cpu && process.platform === 'linux' && cudaProviderPath()) backends.push('cuda');
  else {
    missing.cuda = cpu
      ? 'the CUDA execution provider is not installed (libonnxruntime_providers_cuda.so is absent; ' +
        'reinstall onnxruntime-node with ONNXRUNTIME_NODE_INSTALL_CUDA=v12 on a machine with CUDA 12 and cuDNN 9)'
      : 'onnxruntime-node is not available';
  }
  if (cpu) backends.push('cpu');
  try {
    require.resolve('onnxruntime-web');
    backends.push('wasm');
  } catch (err) {
    missing.wasm = `onnxruntime-web is not installed: ${(err as Error).message}`;
  }
  return { backends, missing };
}

/** Probes (once) which backends work here. */
export function detectBackends(): Promise<BackendReport> {
  cached ??= probe();
  return cached;
}

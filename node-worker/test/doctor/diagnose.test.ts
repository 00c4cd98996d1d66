import { describe, expect, it } from 'vitest';
import {
  compareVersions,
  diagnoseCpu,
  diagnoseCuda,
  diagnoseWasm,
  libraryFromLoadError,
} from '../../src/doctor/diagnose.ts';
import type { ProbeResult } from '../../src/doctor/probe-backend.ts';
import { gpuBox } from './fixtures/facts.ts';
import {
  LOG_NO_CUBLASLT,
  LOG_NO_CUDNN,
  LOG_NO_DEVICE,
  LOG_OLD_DRIVER,
  LOG_PROVIDER_SHARED_ABSENT,
  THROWN,
} from './fixtures/ort-cuda-logs.ts';

const OK: ProbeResult = { ok: true, ms: 1, log: '' };
const failed = (log: string, message = THROWN): ProbeResult => ({
  ok: false,
  stage: 'session',
  message,
  log,
});
const cpuOk = diagnoseCpu(gpuBox(), OK);

describe('diagnoseCuda', () => {
  it('runs when the probe ran, naming the device', () => {
    const s = diagnoseCuda(gpuBox(), OK, cpuOk);
    expect(s.ok).toBe(true);
    expect(s.why).toBe('onnxruntime-node 1.30.0, CUDA execution provider');
    expect(s.device).toBe('NVIDIA A100-SXM4-40GB, 40.0 GiB, driver 550.54.15');
  });

  it.each([
    [
      'a missing cuDNN',
      LOG_NO_CUDNN,
      'missing libcudnn.so.9: install cuDNN 9 for CUDA 12 (Debian/Ubuntu package libcudnn9-cuda-12)',
    ],
    [
      'a missing cuBLAS',
      LOG_NO_CUBLASLT,
      'missing libcublasLt.so.12: install cuBLAS of CUDA 12 (libcublas-12-x)',
    ],
    [
      'no device',
      LOG_NO_DEVICE,
      'no CUDA device is visible to this process (check CUDA_VISIBLE_DEVICES; in Docker, --gpus all)',
    ],
    [
      'an old driver',
      LOG_OLD_DRIVER,
      'the NVIDIA driver 550.54.15 is too old for this CUDA runtime (needs 525.60.13 or newer for CUDA 12)',
    ],
  ])('names %s from the provider load error in the log', (_what, log, why) => {
    const s = diagnoseCuda(gpuBox(), failed(log), cpuOk);
    expect(s.ok).toBe(false);
    expect(s.why).toBe(why);
  });

  it('names every library ldd cannot find, before trying to read the load error', () => {
    const facts = gpuBox({ ort: { cudaLibsMissing: ['libcublasLt.so.12', 'libcudnn.so.9'] } });
    expect(diagnoseCuda(facts, failed(''), cpuOk).why).toBe(
      'missing libcublasLt.so.12, libcudnn.so.9: install cuBLAS of CUDA 12 (libcublas-12-x); cuDNN 9 for CUDA 12 (Debian/Ubuntu package libcudnn9-cuda-12)',
    );
  });

  it('says onnxruntime-node lacks its CUDA binaries, with the command that fetches them', () => {
    const facts = gpuBox({
      ort: {
        providerMissing: ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'],
        cudaLibsMissing: null,
      },
    });
    expect(diagnoseCuda(facts, undefined, cpuOk).why).toBe(
      'onnxruntime-node is installed without its CUDA binaries (libonnxruntime_providers_cuda.so, libonnxruntime_providers_shared.so absent): ' +
        'run ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js',
    );
    // The same from the load error alone (the log onnxruntime-node printed on this machine).
    expect(diagnoseCuda(gpuBox(), failed(LOG_PROVIDER_SHARED_ABSENT), cpuOk).why).toMatch(
      /^missing libonnxruntime_providers_shared\.so: install onnxruntime-node's CUDA binaries: ONNXRUNTIME_NODE_INSTALL=cuda12 /,
    );
  });

  it('puts the driver first: no driver, a failing nvidia-smi, a driver too old for CUDA 12', () => {
    const noDriver = gpuBox({
      gpu: {
        kind: 'none',
        reason: 'nvidia-smi not on PATH; no /proc/driver/nvidia/version, no /dev/nvidiactl',
      },
      ort: { providerMissing: ['libonnxruntime_providers_cuda.so'] },
    });
    expect(diagnoseCuda(noDriver, undefined, cpuOk).why).toBe(
      'no NVIDIA driver (nvidia-smi not on PATH; no /proc/driver/nvidia/version, no /dev/nvidiactl): install the driver; in Docker, run with --gpus all',
    );
    const smiFails = gpuBox({
      gpu: {
        kind: 'error',
        reason:
          "nvidia-smi failed (exit 9): NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
      },
    });
    expect(diagnoseCuda(smiFails, failed(LOG_NO_DEVICE), cpuOk).why).toMatch(
      /^nvidia-smi failed \(exit 9\): NVIDIA-SMI has failed/,
    );
    const old = gpuBox({
      gpu: {
        kind: 'found',
        driver: '470.82.01',
        devices: [{ index: 0, name: 'Tesla T4', memoryMiB: 15360 }],
      },
    });
    expect(diagnoseCuda(old, failed(LOG_OLD_DRIVER), cpuOk).why).toBe(
      'NVIDIA driver 470.82.01 is too old for CUDA 12 (needs 525.60.13 or newer)',
    );
  });

  it('trusts a probe that ran over facts that say otherwise', () => {
    const facts = gpuBox({ gpu: { kind: 'driver-only', driver: null } });
    const s = diagnoseCuda(facts, OK, cpuOk);
    expect(s.ok).toBe(true);
    expect(s.device).toBe('NVIDIA driver ? (no nvidia-smi to name the device)');
  });

  it('refuses other platforms and a broken onnxruntime-node', () => {
    expect(diagnoseCuda(gpuBox({ platform: 'darwin/arm64' }), undefined, cpuOk).why).toBe(
      'onnxruntime-node has a CUDA execution provider for linux/x64 only (this is darwin/arm64)',
    );
    const cpuBad = diagnoseCpu(gpuBox(), failed('', 'Cannot find module onnxruntime-node'));
    expect(diagnoseCuda(gpuBox(), OK, cpuBad)).toMatchObject({
      ok: false,
      why: 'onnxruntime-node does not load (see cpu)',
    });
  });

  it('quotes an unknown failure from the log line that says FAIL', () => {
    const log =
      'some warning\n2026 [E:onnxruntime] FAIL : cuDNN frontend: unsupported GPU architecture sm_50';
    expect(diagnoseCuda(gpuBox(), failed(log), cpuOk).why).toBe(
      'the CUDA execution provider failed (session): 2026 [E:onnxruntime] FAIL : cuDNN frontend: unsupported GPU architecture sm_50',
    );
  });
});

describe('diagnoseCpu and diagnoseWasm', () => {
  it('describe the CPU they run on', () => {
    expect(cpuOk).toEqual({
      backend: 'cpu',
      ok: true,
      why: 'onnxruntime-node 1.30.0, CPU execution provider',
      device: 'AMD EPYC 7742, 64 cores (avx2), 256.0 GiB memory',
    });
    expect(diagnoseWasm(gpuBox(), OK)).toMatchObject({
      ok: true,
      why: 'onnxruntime-web 1.30.0, WASM',
    });
  });

  it('name what is wrong when they do not load', () => {
    const glibc = failed(
      '',
      "/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38' not found (required by onnxruntime_binding.node)",
    );
    expect(diagnoseCpu(gpuBox(), { ...glibc, stage: 'import' } as ProbeResult).why).toMatch(
      /^onnxruntime-node's native library needs glibc 2\.38 or newer/,
    );
    expect(
      diagnoseCpu(gpuBox(), failed('', 'onnxruntime-node is not installed: Cannot find module'))
        .why,
    ).toBe('onnxruntime-node is not installed: run npm ci in the repository');
    expect(
      diagnoseWasm(gpuBox(), {
        ok: false,
        stage: 'run',
        message: 'RuntimeError: unreachable',
        log: '',
      }).why,
    ).toBe('onnxruntime-web does not run (run): RuntimeError: unreachable');
  });
});

describe('helpers', () => {
  it('compareVersions orders driver versions numerically', () => {
    expect(compareVersions('470.82.01', '525.60.13')).toBeLessThan(0);
    expect(compareVersions('525.60.13', '525.60.13')).toBe(0);
    expect(compareVersions('535.1', '525.60.13')).toBeGreaterThan(0);
  });

  it('libraryFromLoadError reads the library name with or without a path', () => {
    expect(libraryFromLoadError(LOG_NO_CUDNN)).toBe('libcudnn.so.9');
    expect(libraryFromLoadError(LOG_PROVIDER_SHARED_ABSENT)).toBe(
      'libonnxruntime_providers_shared.so',
    );
    expect(libraryFromLoadError('nothing here')).toBeNull();
  });
});

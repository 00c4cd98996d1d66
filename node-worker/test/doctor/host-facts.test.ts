import { existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  type ExecOutcome,
  gatherHostFacts,
  type HostSystem,
  parseCpuInfo,
  parseLddMissing,
  parseNvidiaSmi,
  parseProcDriverVersion,
} from '../../src/doctor/host-facts.ts';
import { missingCudaProviderFiles, NVIDIA_DRIVER_PATHS } from '../../src/exec/detect-backends.ts';

const BIN = '/opt/pg/node_modules/onnxruntime-node/bin/napi-v6/linux/x64';

/** A machine made of answers: commands by name, files by path. */
function fakeSystem(o: {
  commands?: Record<string, ExecOutcome>;
  files?: Record<string, string>;
  binDir?: string | null;
}): HostSystem & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    exec: async (cmd, args) => {
      calls.push([cmd, ...args].join(' '));
      return o.commands?.[cmd] ?? { missing: true };
    },
    readText: (p) => o.files?.[p],
    exists: (p) => o.files?.[p] !== undefined,
    totalMemoryBytes: () => 64 * 2 ** 30,
    cores: () => 16,
    platform: 'linux/x64',
    ortNodeBinDir: () => (o.binDir === undefined ? BIN : o.binDir),
    packageVersion: (name) => (name === 'onnxruntime-node' ? '1.30.0' : null),
  };
}

const CPUINFO =
  'processor\t: 0\nmodel name\t: AMD EPYC 7742 64-Core Processor\nflags\t\t: fpu sse4_2 avx avx2 fma\n';

describe('parsers', () => {
  it('read /proc/cpuinfo, nvidia-smi CSV, the driver version file and ldd', () => {
    expect(parseCpuInfo(CPUINFO)).toEqual({
      model: 'AMD EPYC 7742 64-Core Processor',
      features: ['avx', 'avx2', 'fma'],
    });
    expect(parseCpuInfo('')).toEqual({ model: null, features: [] });
    expect(
      parseNvidiaSmi(
        '0, NVIDIA A100-SXM4-40GB, 40960, 550.54.15\n1, NVIDIA A100-SXM4-40GB, 40960, 550.54.15\n',
      ),
    ).toEqual({
      driver: '550.54.15',
      devices: [
        { index: 0, name: 'NVIDIA A100-SXM4-40GB', memoryMiB: 40960 },
        { index: 1, name: 'NVIDIA A100-SXM4-40GB', memoryMiB: 40960 },
      ],
    });
    expect(parseNvidiaSmi('No devices were found\n')).toBeNull();
    expect(
      parseProcDriverVersion(
        'NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023\nGCC version:  gcc version 12.2.0',
      ),
    ).toBe('535.104.05');
    expect(
      parseLddMissing(
        '\tlinux-vdso.so.1 (0x00007ffd)\n\tlibcublasLt.so.12 => not found\n\tlibcudnn.so.9 => not found\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x7f)\n',
      ),
    ).toEqual(['libcublasLt.so.12', 'libcudnn.so.9']);
  });
});

describe('gatherHostFacts', () => {
  it('on a GPU box: the devices from nvidia-smi, the provider files, the libraries ldd misses', async () => {
    const sys = fakeSystem({
      commands: {
        'nvidia-smi': {
          missing: false,
          code: 0,
          stdout: '0, NVIDIA L4, 23034, 550.54.15\n',
          stderr: '',
        },
        ldd: { missing: false, code: 0, stdout: '\tlibcudnn.so.9 => not found\n', stderr: '' },
      },
      files: {
        '/proc/cpuinfo': CPUINFO,
        [`${BIN}/libonnxruntime_providers_cuda.so`]: '',
        [`${BIN}/libonnxruntime_providers_shared.so`]: '',
      },
    });
    const f = await gatherHostFacts(sys);
    expect(f.gpu).toEqual({
      kind: 'found',
      driver: '550.54.15',
      devices: [{ index: 0, name: 'NVIDIA L4', memoryMiB: 23034 }],
    });
    expect(f.cpu).toEqual({
      model: 'AMD EPYC 7742 64-Core Processor',
      cores: 16,
      features: ['avx', 'avx2', 'fma'],
      memoryBytes: 64 * 2 ** 30,
    });
    expect(f.ort).toMatchObject({
      nodeVersion: '1.30.0',
      webVersion: null,
      providerMissing: [],
      cudaLibsMissing: ['libcudnn.so.9'],
    });
    expect(sys.calls).toContain(`ldd ${BIN}/libonnxruntime_providers_cuda.so`);
  });

  it('without nvidia-smi: a loaded driver from /proc, or none; ldd is not run without the provider', async () => {
    const driverOnly = await gatherHostFacts(
      fakeSystem({
        files: {
          '/proc/driver/nvidia/version':
            'NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue',
        },
      }),
    );
    expect(driverOnly.gpu).toEqual({ kind: 'driver-only', driver: '550.54.15' });
    const sys = fakeSystem({});
    const none = await gatherHostFacts(sys);
    expect(none.gpu).toEqual({
      kind: 'none',
      reason: 'nvidia-smi not on PATH; no /proc/driver/nvidia/version, no /dev/nvidiactl',
    });
    expect(none.ort.providerMissing).toEqual([
      'libonnxruntime_providers_cuda.so',
      'libonnxruntime_providers_shared.so',
    ]);
    expect(none.ort.cudaLibsMissing).toBeNull();
    expect(sys.calls.some((c) => c.startsWith('ldd'))).toBe(false);
  });

  it('reports a failing nvidia-smi in its own words', async () => {
    const f = await gatherHostFacts(
      fakeSystem({
        commands: {
          'nvidia-smi': {
            missing: false,
            code: 9,
            stdout:
              "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n",
            stderr: '',
          },
        },
      }),
    );
    expect(f.gpu).toEqual({
      kind: 'error',
      reason:
        "nvidia-smi failed (exit 9): NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.",
    });
  });

  it('on this machine: its CPU and memory, onnxruntime versions, and no NVIDIA driver', async () => {
    const f = await gatherHostFacts();
    expect(f.platform).toBe(`${process.platform}/${process.arch}`);
    expect(f.cpu.cores).toBe(cpus().length);
    expect(f.cpu.memoryBytes).toBe(totalmem());
    expect(f.cpu.model.length).toBeGreaterThan(0);
    expect(f.ort.nodeVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(f.ort.webVersion).toMatch(/^\d+\.\d+\.\d+/);
    // Development machines and CI have no GPU (and then 'none' is the answer); a GPU box has a driver.
    expect(f.gpu.kind === 'none').toBe(
      !NVIDIA_DRIVER_PATHS.some((p) => existsSync(p)) && f.gpu.kind !== 'error',
    );
    expect(f.ort.providerMissing).toEqual(missingCudaProviderFiles());
  });
});

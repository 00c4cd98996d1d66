/**
 * What `peergrid-worker doctor` knows about the machine before it loads
 * anything: the CPU (/proc/cpuinfo), memory, NVIDIA devices and driver
 * (nvidia-smi, else /proc/driver/nvidia), onnxruntime versions, whether
 * onnxruntime-node's CUDA provider files are there, and which CUDA libraries
 * the provider cannot find (ldd). The system is reached through `HostSystem`,
 * so tests can stand in a GPU box; the parsers are pure.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import {
  CUDA_PROVIDER_FILES,
  NVIDIA_DRIVER_PATHS,
  ortNodeBinDir,
} from '../exec/detect-backends.ts';

/** A command's outcome; `missing` when the program is not on PATH. */
export type ExecOutcome =
  | { readonly missing: true }
  | {
      readonly missing: false;
      readonly code: number;
      readonly stdout: string;
      readonly stderr: string;
    };

/** The doors to the machine (real ones by default). */
export interface HostSystem {
  exec(cmd: string, args: readonly string[]): Promise<ExecOutcome>;
  /** A file's text, or undefined when it cannot be read. */
  readText(path: string): string | undefined;
  exists(path: string): boolean;
  totalMemoryBytes(): number;
  /** Logical cores. */
  cores(): number;
  /** `${process.platform}/${process.arch}`. */
  readonly platform: string;
  /** onnxruntime-node's native library folder; null when it is not installed. */
  ortNodeBinDir(): string | null;
  /** An installed package's version, or null. */
  packageVersion(name: string): string | null;
}

export interface CpuFacts {
  readonly model: string;
  readonly cores: number;
  /** SIMD features ORT's CPU kernels use, of those the CPU has (avx2, avx512f, …). */
  readonly features: readonly string[];
  readonly memoryBytes: number;
}

export interface GpuDevice {
  readonly index: number;
  readonly name: string;
  readonly memoryMiB: number;
}

/** NVIDIA devices and driver, as far as the machine tells. */
export type GpuFacts =
  | { readonly kind: 'found'; readonly driver: string; readonly devices: readonly GpuDevice[] }
  /** A driver is loaded, but nvidia-smi is not there to name the devices. */
  | { readonly kind: 'driver-only'; readonly driver: string | null }
  /** No driver: nothing at NVIDIA_DRIVER_PATHS and no nvidia-smi. */
  | { readonly kind: 'none'; readonly reason: string }
  /** nvidia-smi ran and failed (driver not loaded, no device, version mismatch). */
  | { readonly kind: 'error'; readonly reason: string };

export interface OrtFacts {
  readonly nodeVersion: string | null;
  readonly webVersion: string | null;
  readonly binDir: string | null;
  /** CUDA provider files absent from `binDir`. */
  readonly providerMissing: readonly string[];
  /** Libraries the CUDA provider needs and the loader cannot find (ldd); null when not checked. */
  readonly cudaLibsMissing: readonly string[] | null;
}

export interface HostFacts {
  readonly platform: string;
  readonly node: string;
  readonly cpu: CpuFacts;
  readonly gpu: GpuFacts;
  readonly ort: OrtFacts;
}

const SIMD = ['avx', 'avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx_vnni', 'amx_tile'] as const;

/** CPU model and SIMD features from /proc/cpuinfo text. */
export function parseCpuInfo(text: string): { model: string | null; features: string[] } {
  const model = /^model name\s*:\s*(.+)$/m.exec(text)?.[1]?.trim() ?? null;
  const flags = new Set(/^flags\s*:\s*(.+)$/m.exec(text)?.[1]?.trim().split(/\s+/) ?? []);
  return { model, features: SIMD.filter((f) => flags.has(f)) };
}

/** `nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(csv: string): { driver: string; devices: GpuDevice[] } | null {
  const devices: GpuDevice[] = [];
  let driver = '';
  for (const line of csv.split('\n')) {
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length < 4) continue;
    const [index, name, mem, drv] = cells as [string, string, string, string];
    if (!/^\d+$/.test(index)) continue;
    devices.push({ index: Number(index), name, memoryMiB: Number(mem) || 0 });
    driver ||= drv;
  }
  return devices.length > 0 ? { driver, devices } : null;
}

/** The driver version in /proc/driver/nvidia/version ("… Kernel Module  535.104.05  …"). */
export function parseProcDriverVersion(text: string): string | null {
  return /Kernel Module\s+(?:for \S+\s+)?(\d+\.\d+(?:\.\d+)?)/.exec(text)?.[1] ?? null;
}

/** Libraries ldd reports as `not found`. */
export function parseLddMissing(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(\S+)\s+=>\s+not found/gm)) out.push(m[1]!);
  return [...new Set(out)];
}

const requireHere = createRequire(import.meta.url);

function readTextOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export const realHostSystem: HostSystem = {
  exec: (cmd, args) =>
    new Promise((resolve) => {
      execFile(cmd, [...args], { timeout: 15_000, encoding: 'utf8' }, (err, stdout, stderr) => {
        const e = err as { code?: unknown; signal?: unknown } | null;
        // A string code (ENOENT, EACCES on a PATH entry) means it could not be started at all.
        if (typeof e?.code === 'string') return resolve({ missing: true });
        const code = e ? (typeof e.code === 'number' ? e.code : 124) : 0;
        resolve({ missing: false, code, stdout: String(stdout), stderr: String(stderr) });
      });
    }),
  readText: readTextOrUndefined,
  exists: existsSync,
  totalMemoryBytes: totalmem,
  cores: () => cpus().length,
  platform: `${process.platform}/${process.arch}`,
  ortNodeBinDir,
  packageVersion(name) {
    // From the entry point up: an exports map may hide `<name>/package.json`.
    try {
      let dir = dirname(requireHere.resolve(name));
      for (let up = 0; up < 4; up++, dir = dirname(dir)) {
        const text = readTextOrUndefined(join(dir, 'package.json'));
        if (text === undefined) continue;
        const pkg = JSON.parse(text) as { name?: string; version?: string };
        if (pkg.name === name) return pkg.version ?? null;
      }
    } catch {
      // not installed
    }
    return null;
  },
};

async function gpuFacts(sys: HostSystem): Promise<GpuFacts> {
  const smi = await sys.exec('nvidia-smi', [
    '--query-gpu=index,name,memory.total,driver_version',
    '--format=csv,noheader,nounits',
  ]);
  const procText = sys.readText(NVIDIA_DRIVER_PATHS[0]);
  const procDriver = procText === undefined ? null : parseProcDriverVersion(procText);
  if (!smi.missing) {
    const parsed = smi.code === 0 ? parseNvidiaSmi(smi.stdout) : null;
    if (parsed) return { kind: 'found', ...parsed };
    const said = `${smi.stdout}\n${smi.stderr}`.split('\n').find((l) => l.trim() !== '');
    return {
      kind: 'error',
      reason: `nvidia-smi failed (exit ${smi.code}): ${said?.trim() ?? 'no output'}`,
    };
  }
  if (procText !== undefined || NVIDIA_DRIVER_PATHS.some((p) => sys.exists(p))) {
    return { kind: 'driver-only', driver: procDriver };
  }
  return {
    kind: 'none',
    reason: `nvidia-smi not on PATH; no ${NVIDIA_DRIVER_PATHS.join(', no ')}`,
  };
}

async function cudaLibsMissing(sys: HostSystem, binDir: string): Promise<string[] | null> {
  const ldd = await sys.exec('ldd', [join(binDir, CUDA_PROVIDER_FILES[0])]);
  if (ldd.missing) return null;
  return parseLddMissing(`${ldd.stdout}\n${ldd.stderr}`);
}

/** Gathers the facts (a few file reads, nvidia-smi and ldd; nothing loads ONNX Runtime). */
export async function gatherHostFacts(sys: HostSystem = realHostSystem): Promise<HostFacts> {
  const info = parseCpuInfo(sys.readText('/proc/cpuinfo') ?? '');
  const cpu: CpuFacts = {
    model: info.model ?? (cpus()[0]?.model.trim() || 'unknown CPU'),
    cores: sys.cores(),
    features: info.features,
    memoryBytes: sys.totalMemoryBytes(),
  };
  const binDir = sys.ortNodeBinDir();
  const providerMissing =
    binDir === null
      ? [...CUDA_PROVIDER_FILES]
      : CUDA_PROVIDER_FILES.filter((f) => !sys.exists(join(binDir, f)));
  const ort: OrtFacts = {
    nodeVersion: sys.packageVersion('onnxruntime-node'),
    webVersion: sys.packageVersion('onnxruntime-web'),
    binDir,
    providerMissing,
    cudaLibsMissing:
      binDir !== null && providerMissing.length === 0 ? await cudaLibsMissing(sys, binDir) : null,
  };
  return { platform: sys.platform, node: process.version, cpu, gpu: await gpuFacts(sys), ort };
}

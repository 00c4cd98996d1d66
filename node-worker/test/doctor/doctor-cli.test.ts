/** `peergrid-worker doctor` as an operator runs it: the real binary, real onnxruntime, this machine. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { missingCudaProviderFiles, nvidiaDriverLoaded } from '../../src/exec/detect-backends.ts';
import { WORKER_BIN } from '../integration/grid-harness.ts';

function worker(
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WORKER_BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('peergrid-worker doctor', () => {
  it('has --help, and the worker usage points to it', async () => {
    const help = await worker(['doctor', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^peergrid-worker doctor \[--backend auto\|cpu\|cuda\|wasm\]/);
    const top = await worker(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('peergrid-worker doctor [--backend B] [--seconds N]');
    expect(top.stdout).toContain('--metrics-port P');
  }, 30_000);

  it('loads cpu and benchmarks it, with progress on stderr and the report as JSON', async () => {
    const r = await worker([
      'doctor',
      '--backend',
      'cpu',
      '--seconds',
      '1',
      '--concurrency',
      '1',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(true);
    expect(report.wouldUse).toBe('cpu');
    expect(report.backends.find((b: { backend: string }) => b.backend === 'cpu')).toMatchObject({
      ok: true,
    });
    expect(report.bench).toHaveLength(1);
    expect(report.bench[0]).toMatchObject({ backend: 'cpu', concurrency: 1, preset: 'ms2' });
    expect(report.bench[0].tasks).toBeGreaterThan(0);
    expect(report.bench[0].tasksPerSec).toBeGreaterThan(0);
    expect(r.stderr).toContain('doctor: benchmarking cpu for 1 s');
    expect(r.stderr).toMatch(/doctor: bench cpu 1\/1 s, \d+ tasks/);
  }, 60_000);

  it('names what CUDA lacks here in one line, and exits 1 for --backend cuda', async () => {
    const r = await worker(['doctor', '--backend', 'cuda', '--seconds', '0']);
    const line = r.stdout.split('\n').find((l) => l.startsWith('cuda '));
    expect(line).toBeDefined();
    if (!nvidiaDriverLoaded()) {
      // This machine and CI: no driver, the first thing to fix.
      expect(r.code).toBe(1);
      expect(line).toMatch(
        /^cuda +no +no NVIDIA driver \(nvidia-smi not on PATH; no \/proc\/driver\/nvidia\/version, no \/dev\/nvidiactl\): install the driver; in Docker, run with --gpus all$/,
      );
      expect(r.stdout).toMatch(/not ok: --backend cuda cannot run here: no NVIDIA driver/);
    } else if (missingCudaProviderFiles().length > 0) {
      expect(r.code).toBe(1);
      expect(line).toMatch(
        /onnxruntime-node is installed without its CUDA binaries .*ONNXRUNTIME_NODE_INSTALL=cuda12/,
      );
    } else {
      expect(line).toMatch(/^cuda +(yes|no) +\S/);
    }
    // The checks list what the CUDA provider needs, whatever the outcome.
    expect(r.stdout).toContain('CUDA checks (onnxruntime-node needs CUDA 12 and cuDNN 9)');
  }, 60_000);

  it('runs wasm without a benchmark (--seconds 0), and refuses bad flags with exit 2', async () => {
    const r = await worker(['doctor', '--backend', 'wasm', '--seconds', '0']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^wasm +yes +onnxruntime-web \d+\.\d+\.\d+, WASM$/m);
    expect(r.stdout).not.toContain('self-benchmark');
    const bad = await worker(['doctor', '--seconds', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--seconds must be a number from 0 to 600');
  }, 60_000);
});

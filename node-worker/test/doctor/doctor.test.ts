import { describe, expect, it } from 'vitest';
import { type DoctorDeps, doctorMain, runDoctor } from '../../src/doctor/doctor.ts';
import type { DoctorOptions } from '../../src/doctor/doctor-args.ts';
import type { HostFacts } from '../../src/doctor/host-facts.ts';
import { type ProbeResult, probeBackend } from '../../src/doctor/probe-backend.ts';
import type { BenchOptions, BenchResult } from '../../src/doctor/self-bench.ts';
import type { NodeBackend } from '../../src/exec/detect-backends.ts';
import { gpuBox } from './fixtures/facts.ts';
import { LOG_NO_CUDNN, THROWN } from './fixtures/ort-cuda-logs.ts';

const OK: ProbeResult = { ok: true, ms: 1, log: '' };
const OPTIONS: DoctorOptions = {
  backend: 'auto',
  seconds: 2,
  concurrency: 4,
  preset: 'ms2',
  json: false,
};

/** Doctor deps for a made-up machine: its facts, a probe answer per backend, a benchmark that reports progress. */
function fake(
  facts: HostFacts,
  probes: Partial<Record<NodeBackend, ProbeResult>>,
  o: { benchFails?: NodeBackend; tty?: boolean } = {},
) {
  const out: string[] = [];
  const progress: string[] = [];
  const probed: NodeBackend[] = [];
  const benched: BenchOptions[] = [];
  const deps: DoctorDeps = {
    facts: async () => facts,
    probe: async (b) => {
      probed.push(b);
      return probes[b] ?? OK;
    },
    bench: async (b): Promise<BenchResult> => {
      benched.push(b);
      for (let s = 0; s <= b.seconds; s += 0.5) b.onProgress?.(s, s * 100);
      if (b.backend === o.benchFails) throw new Error('runner process exited (SIGSEGV)');
      return {
        backend: b.backend,
        preset: b.preset,
        concurrency: b.concurrency,
        tasks: 200,
        seconds: 2,
        tasksPerSec: 100,
        warmupMs: 40,
      };
    },
    out: (t) => out.push(t),
    progress: (t) => progress.push(t),
    tty: o.tty ?? false,
  };
  return { deps, out, progress, probed, benched };
}

const cudnnMissing: ProbeResult = {
  ok: false,
  stage: 'session',
  message: THROWN,
  log: LOG_NO_CUDNN,
};

describe('runDoctor', () => {
  it('on a GPU box whose CUDA provider cannot load cuDNN: names it, exits 1 for --backend cuda', async () => {
    const f = fake(gpuBox(), { cuda: cudnnMissing });
    const { report, code } = await runDoctor({ ...OPTIONS, backend: 'cuda' }, f.deps);
    expect(code).toBe(1);
    expect(f.probed).toEqual(['cpu', 'cuda', 'wasm']);
    expect(f.benched).toEqual([]);
    const text = f.out.join('');
    expect(text).toContain(
      'cuda     no    missing libcudnn.so.9: install cuDNN 9 for CUDA 12 (Debian/Ubuntu package libcudnn9-cuda-12)',
    );
    expect(text).toContain('GPU   #0 NVIDIA A100-SXM4-40GB, 40.0 GiB memory, driver 550.54.15');
    expect(report.problem).toBe(
      '--backend cuda cannot run here: missing libcudnn.so.9: install cuDNN 9 for CUDA 12 (Debian/Ubuntu package libcudnn9-cuda-12)',
    );
    expect(text.trimEnd().split('\n').at(-1)).toBe(`not ok: ${report.problem}`);
  });

  it('the same box with --backend auto falls to cpu, exits 0, and benchmarks cpu and wasm', async () => {
    const f = fake(gpuBox(), { cuda: cudnnMissing });
    const { report, code } = await runDoctor(OPTIONS, f.deps);
    expect(code).toBe(0);
    expect(report.wouldUse).toBe('cpu');
    expect(f.benched.map((b) => [b.backend, b.seconds, b.concurrency, b.preset])).toEqual([
      ['cpu', 2, 4, 'ms2'],
      ['wasm', 2, 4, 'ms2'],
    ]);
    expect(f.out.join('')).toMatch(
      /^ {2}cpu {8}100\.0 tasks\/s {2}\(200 tasks in 2\.0 s; sessions ready in 40 ms\)$/m,
    );
    expect(f.out.join('')).toContain('ok: peergrid-worker --backend auto runs on cpu');
  });

  it('with CUDA working: auto uses cuda; --backend cuda benchmarks only cuda', async () => {
    const auto = await runDoctor(OPTIONS, fake(gpuBox(), {}).deps);
    expect(auto.report.wouldUse).toBe('cuda');
    const f = fake(gpuBox(), {});
    const { code } = await runDoctor({ ...OPTIONS, backend: 'cuda' }, f.deps);
    expect(code).toBe(0);
    expect(f.benched.map((b) => b.backend)).toEqual(['cuda']);
  });

  it('does not try CUDA without the provider files, and says how to get them', async () => {
    const facts = gpuBox({
      ort: { providerMissing: ['libonnxruntime_providers_cuda.so'], cudaLibsMissing: null },
    });
    const f = fake(facts, {});
    const { code } = await runDoctor({ ...OPTIONS, backend: 'cuda', seconds: 0 }, f.deps);
    expect(code).toBe(1);
    expect(f.probed).toEqual(['cpu', 'wasm']);
    expect(f.out.join('')).toContain(
      'run ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js',
    );
  });

  it('exits 1 when the backend loads but its benchmark fails, and when nothing loads', async () => {
    const benchBad = await runDoctor(
      { ...OPTIONS, backend: 'cpu' },
      fake(gpuBox(), {}, { benchFails: 'cpu' }).deps,
    );
    expect(benchBad.code).toBe(1);
    expect(benchBad.report.problem).toBe(
      'cpu loads, but its benchmark failed: runner process exited (SIGSEGV)',
    );
    const broken: ProbeResult = {
      ok: false,
      stage: 'import',
      message: 'onnxruntime-node is not installed: Cannot find module',
      log: '',
    };
    const none = await runDoctor(
      OPTIONS,
      fake(gpuBox(), {
        cpu: broken,
        wasm: { ...broken, message: 'onnxruntime-web is not installed' },
      }).deps,
    );
    expect(none.code).toBe(1);
    expect(none.report.problem).toMatch(
      /^no backend runs here: cpu: onnxruntime-node is not installed: run npm ci in the repository; cuda: onnxruntime-node does not load \(see cpu\); wasm: /,
    );
  });

  it('shows progress while benchmarking: a line per second, or one line redrawn on a terminal', async () => {
    const lines = fake(gpuBox(), {});
    await runDoctor({ ...OPTIONS, backend: 'cpu' }, lines.deps);
    expect(lines.progress.filter((p) => p.startsWith('doctor: bench cpu'))).toEqual([
      'doctor: bench cpu 0/2 s, 0 tasks\n',
      'doctor: bench cpu 1/2 s, 100 tasks\n',
      'doctor: bench cpu 2/2 s, 200 tasks\n',
    ]);
    const tty = fake(gpuBox(), {}, { tty: true });
    await runDoctor({ ...OPTIONS, backend: 'cpu' }, tty.deps);
    const redraws = tty.progress.filter((p) => p.startsWith('\r'));
    expect(redraws).toHaveLength(5);
    expect(redraws.at(-1)).toBe('\r  cpu   [####################] 2.0/2 s  200 tasks');
  });

  it('--json prints the report as one JSON object', async () => {
    const f = fake(gpuBox(), { cuda: cudnnMissing });
    await runDoctor({ ...OPTIONS, json: true }, f.deps);
    expect(f.out).toHaveLength(1);
    const r = JSON.parse(f.out[0]!);
    expect(r.ok).toBe(true);
    expect(r.backends.map((b: { backend: string; ok: boolean }) => [b.backend, b.ok])).toEqual([
      ['cpu', true],
      ['cuda', false],
      ['wasm', true],
    ]);
    expect(r.bench.map((b: BenchResult) => b.tasksPerSec)).toEqual([100, 100]);
  });

  it('doctorMain: --help exits 0, bad flags exit 2 with the reason', async () => {
    const help = fake(gpuBox(), {});
    expect(await doctorMain(['--help'], help.deps)).toBe(0);
    expect(help.out.join('')).toMatch(/^peergrid-worker doctor \[--backend/);
    for (const [argv, reason] of [
      [['--backend', 'tpu'], '--backend must be one of auto, cuda, cpu, wasm'],
      [['--seconds', '700'], '--seconds must be a number from 0 to 600'],
      [['--seconds', 'soon'], '--seconds must be a number from 0 to 600'],
      [['--concurrency', '1.5'], '--concurrency must be an integer >= 1'],
      [['--preset', 'huge'], '--preset must be one of tiny, ms2, ms20'],
      [['--frobnicate'], "Unknown option '--frobnicate'"],
    ] as const) {
      const f = fake(gpuBox(), {});
      expect(await doctorMain(argv, f.deps)).toBe(2);
      expect(f.progress.join('')).toContain(reason);
      expect(f.probed).toEqual([]);
    }
  });
});

describe('probeBackend on this machine (real onnxruntime)', () => {
  it('loads cpu and wasm and runs the probe model', async () => {
    const cpu = await probeBackend('cpu');
    expect(cpu).toMatchObject({ ok: true });
    const wasm = await probeBackend('wasm');
    expect(wasm).toMatchObject({ ok: true });
  }, 60_000);

  it("returns onnxruntime-node's own reason when the CUDA provider does not load", async () => {
    const cuda = await probeBackend('cuda');
    if (cuda.ok) return; // a GPU box with CUDA installed: nothing to pin
    expect(cuda.stage).toBe('session');
    expect(cuda.message).toBe(THROWN);
    // The reason is only in the log: the provider library onnxruntime-node could not open.
    expect(cuda.log).toMatch(
      /Failed to load library \S*libonnxruntime_providers_\w+\.so with error: .+: cannot open shared object file/,
    );
  }, 60_000);
});

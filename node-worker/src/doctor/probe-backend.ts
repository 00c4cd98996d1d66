/**
 * Loads one backend for real, in a child process: imports its ONNX Runtime,
 * creates a session for a tiny bundled model on that execution provider, and
 * runs it once. A child, because a provider that fails to load may take its
 * process down, and because onnxruntime-node says *why* a provider library
 * did not load only in its log on stderr (the thrown error says just "Failed
 * to load shared library"): the child's stderr comes back with the outcome.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { NodeBackend } from '../exec/detect-backends.ts';
import { createMatmulModel } from '../workloads/matmul.ts';

/** What a probe saw. `log` is the child's stderr (ONNX Runtime's own log lines), ANSI colours removed. */
export type ProbeResult =
  | { readonly ok: true; readonly ms: number; readonly log: string }
  | {
      readonly ok: false;
      /** Where it failed: loading the runtime, creating the session, running it, or the child died. */
      readonly stage: 'import' | 'session' | 'run' | 'crash';
      readonly message: string;
      readonly log: string;
    };

export type ProbeBackend = (backend: NodeBackend) => Promise<ProbeResult>;

/** Width of the probe model's input rows. */
const PROBE_SIZE = 16;
/** A probe that has not answered by then failed, ms. */
export const PROBE_TIMEOUT_MS = 60_000;

// Plain JS run with `node --input-type=module -e`: no file to find next to a
// bundle, no TypeScript loader. argv: backend, runtime module URL; the model on stdin.
const PROBE_SOURCE = `
const [backend, moduleUrl, size] = process.argv.slice(1);
const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n', () => process.exit(0));
const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const model = new Uint8Array(Buffer.concat(chunks));
let ort;
try {
  const m = await import(moduleUrl);
  ort = m.InferenceSession ? m : m.default;
  if (backend === 'wasm') { ort.env.wasm.numThreads = 1; ort.env.wasm.proxy = false; }
} catch (e) { say({ ok: false, stage: 'import', message: String(e && e.message || e) }); }
if (ort) {
  let session;
  try {
    session = await ort.InferenceSession.create(model, { executionProviders: [backend] });
  } catch (e) { say({ ok: false, stage: 'session', message: String(e && e.message || e) }); }
  if (session) {
    try {
      const n = Number(size);
      const x = new ort.Tensor('float32', new Float32Array(n).fill(0.5), [1, n]);
      const t0 = performance.now();
      const out = await session.run({ x });
      const ms = performance.now() - t0;
      const y = out.y;
      if (!y || y.dims.join() !== '1,' + n) throw new Error('output y has dims [' + (y ? y.dims.join(',') : '') + ']');
      say({ ok: true, ms });
    } catch (e) { say({ ok: false, stage: 'run', message: String(e && e.message || e) }); }
  }
}
`;

const requireHere = createRequire(import.meta.url);
const RUNTIME_PACKAGE: Record<NodeBackend, string> = {
  cpu: 'onnxruntime-node',
  cuda: 'onnxruntime-node',
  wasm: 'onnxruntime-web',
};

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes in ORT's log
const ANSI = /\u001b\[[0-9;]*m/g;

/** Probes `backend` in a child process (real ONNX Runtime). */
export const probeBackend: ProbeBackend = async (backend) => {
  const pkg = RUNTIME_PACKAGE[backend];
  let entry: string;
  try {
    entry = requireHere.resolve(pkg);
  } catch (err) {
    return {
      ok: false,
      stage: 'import',
      message: `${pkg} is not installed: ${(err as Error).message.split('\n')[0]}`,
      log: '',
    };
  }
  const model = createMatmulModel({ size: PROBE_SIZE, layers: 2 });
  return new Promise<ProbeResult>((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        PROBE_SOURCE,
        backend,
        pathToFileURL(entry).href,
        String(PROBE_SIZE),
      ],
      { cwd: dirname(entry), stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, stage: 'crash', message: e.message, log: '' });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const log = err.replace(ANSI, '').trim();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        try {
          const r = JSON.parse(line) as
            | { ok: true; ms: number }
            | { ok: false; stage: 'import' | 'session' | 'run'; message: string };
          return resolve({ ...r, log });
        } catch {
          // falls through to the crash report
        }
      }
      const how =
        signal === 'SIGKILL'
          ? `timed out after ${PROBE_TIMEOUT_MS / 1000} s`
          : `died (${signal ?? `exit ${code}`})`;
      resolve({ ok: false, stage: 'crash', message: `the ${backend} probe ${how}`, log });
    });
    child.stdin.on('error', () => {}); // a child that died early closes its stdin
    child.stdin.end(Buffer.from(model));
  });
};

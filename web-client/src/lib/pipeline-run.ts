/**
 * A pipeline (pipeline.json / .yaml: job manifests and built-in steps, see
 * docs/MANIFEST.md) run from the Submit view, by shared's `runPipeline`, the
 * same code as `peergrid run pipeline.json`: the chosen files are the file
 * system (matched by path or name, as for a manifest), each manifest stage
 * is a job of this tab (submitted, shown in Jobs, its verified results read
 * back from IndexedDB as the job view's .npz), and each step runs here.
 * Everything that needs no stage's output is checked before the first job
 * is stored. The run's state is a store the Submit view draws; it outlives
 * the view (a user may look at a stage's job meanwhile).
 */
import {
  checkPipeline,
  decodeNpz,
  isPipelineValue,
  type JobSpec,
  type ManifestFormat,
  manifestFormatOf,
  type PipelineEnv,
  type PipelineProblem,
  parseManifestText,
  parsePipelineDoc,
  runPipeline,
  type Tensor,
  type TensorMap,
} from '@peergrid/shared';
import type { PageRuntime } from '../state/runtime.ts';
import { createStore, type Store } from '../state/store.ts';
import { UPLOAD_LIMITS } from './custom-job.ts';
import { formatBytes } from './format.ts';
import {
  findUpload,
  MANIFEST_LIMITS,
  modelDescription,
  type UploadedFile,
} from './manifest-draft.ts';
import { sha256Hex } from './sha256.ts';

export type StageState = 'waiting' | 'running' | 'done' | 'failed';

export interface PipelineStageView {
  readonly id: string;
  /** 'manifest' or the step's name. */
  readonly what: string;
  readonly state: StageState;
  /** A manifest stage's job, once submitted. */
  readonly jobId?: string;
  /** The latest line about it (boxes found, tasks verified). */
  readonly note?: string;
}

export interface PipelineView {
  readonly name: string;
  readonly state: 'running' | 'done' | 'failed';
  readonly stages: readonly PipelineStageView[];
  /** The last step's value once done. */
  readonly result?: unknown;
  /** Why it stopped, for the user. */
  readonly error?: string;
}

/** A manifest-like upload read: its text and format, and whether it is a pipeline. */
export async function readManifestUpload(
  file: UploadedFile,
): Promise<{ text: string; format: ManifestFormat; pipeline: boolean }> {
  if (file.size > MANIFEST_LIMITS.maxManifestBytes) {
    throw new Error(
      `${file.name} is over ${MANIFEST_LIMITS.maxManifestBytes} bytes: is it a manifest?`,
    );
  }
  const text = new TextDecoder().decode(await file.arrayBuffer());
  const format = manifestFormatOf(file.name);
  const parsed = parseManifestText(text, format);
  return { text, format, pipeline: parsed.ok && isPipelineValue(parsed.value) };
}

/** A pipeline's problems as one message. */
export class PipelineRefused extends Error {
  readonly problems: readonly PipelineProblem[];
  constructor(name: string, problems: readonly PipelineProblem[], verb = 'is refused') {
    super(`${name} ${verb}:\n${problems.map((p) => `  ${p.message}`).join('\n')}`);
    this.name = 'PipelineRefused';
    this.problems = problems;
  }
}

/** A job's .npz entries (`TASK/OUTPUT`, names `%XX`-escaped) → outputs by task id. */
export function resultsByTask(entries: Readonly<Record<string, Tensor>>): Map<string, TensorMap> {
  const out = new Map<string, Record<string, Tensor>>();
  for (const [key, t] of Object.entries(entries)) {
    const slash = key.indexOf('/');
    if (slash < 0) continue;
    const task = decodeURIComponent(key.slice(0, slash));
    const output = decodeURIComponent(key.slice(slash + 1).replace(/\.npy$/, ''));
    const m = out.get(task) ?? {};
    m[output] = t;
    out.set(task, m);
  }
  return out;
}

/** Waits until the page's job ends; resolves with its final state. */
function jobEnd(runtime: PageRuntime, jobId: string): Promise<string> {
  const store = runtime.jobDetail(jobId);
  return new Promise((resolve) => {
    const check = () => {
      const s = store.get()?.state;
      if (s === 'completed' || s === 'failed' || s === 'cancelled') {
        unsubscribe();
        clearInterval(poll);
        resolve(s);
      }
    };
    const unsubscribe = store.subscribe(check);
    // Views are rebuilt on events; a quiet end is still seen.
    const poll = setInterval(check, 1000);
    check();
  });
}

let current: Store<PipelineView | null> | null = null;

/** The Submit view's pipeline run (null before any). */
export function pipelineRun(): Store<PipelineView | null> {
  current ??= createStore<PipelineView | null>(null);
  return current;
}

/**
 * Checks a pipeline and its files (throws a `PipelineRefused` listing every
 * problem, before anything is stored), then runs it in the background;
 * `pipelineRun()` follows it.
 */
export async function startPipeline(
  runtime: PageRuntime,
  file: UploadedFile,
  files: readonly UploadedFile[],
  text: string,
  format: ManifestFormat,
): Promise<void> {
  if (pipelineRun().get()?.state === 'running') {
    throw new Error('A pipeline is running in this tab: wait for it to end.');
  }
  let total = 0;
  const read = async (path: string) => {
    const f = findUpload(files, path);
    if (!f) return null;
    if (/\.onnx$/i.test(f.name) && f.size > UPLOAD_LIMITS.maxModelBytes) {
      throw new Error(
        `${f.name} (${formatBytes(f.size)}) is over the ${formatBytes(UPLOAD_LIMITS.maxModelBytes)} limit for models.`,
      );
    }
    total += f.size;
    if (total > 2 * MANIFEST_LIMITS.maxTotalBytes) {
      throw new Error(
        `the pipeline's files are over ${2 * MANIFEST_LIMITS.maxTotalBytes} bytes in all`,
      );
    }
    return new Uint8Array(await f.arrayBuffer());
  };
  const exists = async (path: string) => findUpload(files, path) !== null;
  const parsed = parsePipelineDoc(text, format);
  const checked = parsed.ok ? await checkPipeline(parsed.doc, { read, exists }) : parsed;
  if (!checked.ok) throw new PipelineRefused(file.name, checked.problems);
  const name = (parsed.ok && parsed.doc.name) || file.name.replace(/\.(json|ya?ml)$/i, '');
  const view = pipelineRun();
  view.set({
    name,
    state: 'running',
    stages: checked.checked.doc.stages.map((s) => ({
      id: s.id,
      what: s.kind === 'manifest' ? s.path : s.step,
      state: 'waiting',
    })),
  });
  const setStage = (id: string, patch: Partial<PipelineStageView>) =>
    view.update((v) =>
      v ? { ...v, stages: v.stages.map((s) => (s.id === id ? { ...s, ...patch } : s)) } : v,
    );
  const runJob = async (spec: JobSpec, stage: { id: string }) => {
    const tasks = spec.tasks.length + (spec.groups ?? []).reduce((n, g) => n + g.count, 0);
    const jobName = `${name} · ${stage.id} · ${tasks} task${tasks === 1 ? '' : 's'}`;
    const r = await runtime.submit({
      name: jobName,
      kind: 'manifest',
      spec: { ...spec, name: jobName },
    });
    if (!r.ok) throw new Error(r.error);
    setStage(stage.id, { jobId: r.jobId, note: `job of ${tasks} tasks running` });
    const end = await jobEnd(runtime, r.jobId);
    if (end !== 'completed') throw new Error(`its job ${r.jobId.slice(0, 12)} ended ${end}`);
    const archive = await runtime.resultsArchive(r.jobId);
    if (!archive) throw new Error('its results cannot be read from this browser');
    const npz = decodeNpz(new Uint8Array(await archive.blob.arrayBuffer()));
    if (!npz.ok) throw new Error(`its results: ${npz.error}`);
    return resultsByTask(npz.tensors);
  };
  const env: PipelineEnv = {
    read,
    exists,
    describeModel: async (bytes) => modelDescription(await runtime.inspectModel(bytes)),
    sha256: sha256Hex,
    runJob,
    onStage: (e) => {
      const note = e.line.replace(/^stage \S+ \([^)]*\): /, '');
      if (e.type === 'start') setStage(e.stage.id, { state: 'running' });
      else if (e.type === 'note') setStage(e.stage.id, { note });
      else
        setStage(e.stage.id, { state: 'done', ...(e.output.kind === 'manifest' ? { note } : {}) });
    },
  };
  void runPipeline(text, env, format).then(
    (r) => {
      if (r.ok) view.update((v) => (v ? { ...v, state: 'done', result: r.value } : v));
      else {
        const message = new PipelineRefused(file.name, r.problems, 'stopped').message;
        view.update((v) =>
          v
            ? {
                ...v,
                state: 'failed',
                error: message,
                stages: v.stages.map((s) =>
                  s.state === 'running' ? { ...s, state: 'failed' } : s,
                ),
              }
            : v,
        );
      }
    },
    (e: unknown) =>
      view.update((v) =>
        v ? { ...v, state: 'failed', error: String((e as Error).message ?? e) } : v,
      ),
  );
}

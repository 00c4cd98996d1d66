/**
 * A pipeline: job manifests and built-in submitter-side steps in order,
 * each stage taking what earlier ones gave. A manifest stage runs a job
 * manifest on the grid; a step stage runs a named step of the registry
 * (`steps.ts`) on the submitter (work donors do not do: they run ONNX graphs
 * only), and the files it writes are files later manifests name.
 *
 * ```json
 * {
 *   "name": "batch OCR",
 *   "stages": [
 *     { "id": "det", "manifest": "det.json" },
 *     { "id": "crops", "step": "ocr-crops", "with": { "maps": "det", "images": "images.npz" } },
 *     { "id": "rec", "manifest": "rec.json" },
 *     { "id": "text", "step": "ocr-text", "with": { "outputs": "rec", "crops": "crops", "keys": "keys.txt" } }
 *   ]
 * }
 * ```
 */
import type { ManifestProblem } from '../manifest/manifest-problems.ts';
import { type ManifestFormat, parseManifestText } from '../manifest/manifest-text.ts';

/** The one pipeline version this reader knows. */
export const PIPELINE_VERSION = 1;

/** Why a pipeline is refused or stopped: stable codes. */
export const PIPELINE_PROBLEM_CODES = [
  /** Not JSON (or YAML), an unknown field, a field of the wrong type, a repeated stage id. */
  'bad-pipeline',
  /** A step stage names no step of the registry. */
  'unknown-step',
  /** A step's parameter is missing, unknown or of the wrong type. */
  'bad-step',
  /** A step takes a stage that is not before it, or not of the kind it needs. */
  'unknown-stage',
  /** A manifest, model or file the pipeline needs is neither given nor written by an earlier step. */
  'missing-file',
  /** A stage failed while the pipeline ran (its job did not complete, a step found bad data). */
  'stage-failed',
] as const;
export type PipelineProblemCode = (typeof PIPELINE_PROBLEM_CODES)[number];

/** A pipeline problem, or a problem of one of its manifests (their codes, the stage named in the message). */
export interface PipelineProblem {
  readonly code: PipelineProblemCode | ManifestProblem['code'];
  readonly message: string;
}

export type PipelineStage =
  /** Runs the job manifest at `path` (relative to the pipeline's folder). */
  | { readonly id: string; readonly kind: 'manifest'; readonly path: string }
  /** Runs the registry's step `step` with the parameters `with`. */
  | {
      readonly id: string;
      readonly kind: 'step';
      readonly step: string;
      readonly params: Readonly<Record<string, unknown>>;
    };

export interface PipelineDoc {
  readonly name?: string;
  readonly stages: readonly PipelineStage[];
}

const DOC_KEYS = new Set(['version', 'name', 'stages']);
const STAGE_ID = /^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/;

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => x !== null && typeof x === 'object' && !Array.isArray(x);

/** True when a parsed manifest-like value is a pipeline (it has `stages`, a job manifest has `tasks`). */
export function isPipelineValue(value: unknown): boolean {
  return isObj(value) && 'stages' in value;
}

/** The text (JSON, or YAML with `format` 'yaml') or value of a pipeline → a document, or every problem. */
export function parsePipelineDoc(
  raw: unknown,
  format: ManifestFormat = 'json',
): { ok: true; doc: PipelineDoc } | { ok: false; problems: PipelineProblem[] } {
  const problems: PipelineProblem[] = [];
  const bad = (message: string) => problems.push({ code: 'bad-pipeline', message });
  if (typeof raw === 'string') {
    const r = parseManifestText(raw, format);
    if (!r.ok) return { ok: false, problems: [{ code: 'bad-pipeline', message: r.error }] };
    raw = r.value;
  }
  if (!isObj(raw)) {
    return { ok: false, problems: [{ code: 'bad-pipeline', message: 'a pipeline is an object' }] };
  }
  for (const k of Object.keys(raw)) if (!DOC_KEYS.has(k)) bad(`${k}: unknown field`);
  if (raw.version !== undefined && raw.version !== PIPELINE_VERSION) {
    bad(`version: this reader knows version ${PIPELINE_VERSION}, got ${String(raw.version)}`);
  }
  if (raw.name !== undefined && typeof raw.name !== 'string') bad('name: must be a string');
  const stages: PipelineStage[] = [];
  if (!Array.isArray(raw.stages) || raw.stages.length === 0) {
    bad(
      'stages: give a list of stages, each {"id", "manifest": PATH} or {"id", "step": NAME, "with": {…}}',
    );
  } else {
    const seen = new Set<string>();
    for (const [i, s] of raw.stages.entries()) {
      let at = `stages[${i}]`;
      if (!isObj(s)) {
        bad(`${at}: a stage is {"id", "manifest": PATH} or {"id", "step": NAME, "with": {…}}`);
        continue;
      }
      const id = typeof s.id === 'string' && STAGE_ID.test(s.id) ? s.id : null;
      if (!id) {
        bad(`${at}: id must be letters, digits and _ . : - (a letter or digit first)`);
        continue;
      }
      at = `stage ${id}`;
      if (seen.has(id)) bad(`${at}: the id is given twice`);
      seen.add(id);
      const hasManifest = 'manifest' in s;
      const hasStep = 'step' in s;
      if (hasManifest === hasStep) {
        bad(`${at}: give one of "manifest" (a job manifest's path) or "step" (a step's name)`);
        continue;
      }
      const allowed = hasManifest ? ['id', 'manifest'] : ['id', 'step', 'with'];
      const extra = Object.keys(s).filter((k) => !allowed.includes(k));
      if (extra.length > 0) {
        bad(`${at}: unknown field ${extra.join(', ')}`);
        continue;
      }
      if (hasManifest) {
        if (typeof s.manifest !== 'string' || s.manifest === '') {
          bad(`${at}: manifest must be a file path`);
          continue;
        }
        stages.push({ id, kind: 'manifest', path: s.manifest });
        continue;
      }
      if (typeof s.step !== 'string' || s.step === '') {
        bad(`${at}: step must name a step`);
        continue;
      }
      if (s.with !== undefined && !isObj(s.with)) {
        bad(`${at}: with must be an object of the step's parameters`);
        continue;
      }
      stages.push({ id, kind: 'step', step: s.step, params: (s.with as Obj | undefined) ?? {} });
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, doc: { ...(typeof raw.name === 'string' ? { name: raw.name } : {}), stages } };
}

/** Normalizes a `/`-separated path: `.` and empty parts dropped, `x/..` folded; leading `..` kept. */
export function normalizePath(path: string): string {
  const abs = path.startsWith('/');
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (part !== '..' || !abs) out.push(part);
  }
  return (abs ? '/' : '') + out.join('/');
}

/** `path` as seen from the folder `base` (absolute paths, `/…` or `C:\…`, are taken as they are). */
export function resolvePath(base: string, path: string): string {
  if (path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path)) return path;
  return normalizePath(base === '' ? path : `${base}/${path}`);
}

/** The folder part of a `/`-separated path ('' for a bare name). */
export function folderOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

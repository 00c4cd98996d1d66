/**
 * Checks and runs a pipeline (`pipeline-doc.ts`), the same in the CLI and
 * the page: every check that needs no earlier stage's output is made before
 * anything is submitted (steps and their parameters, the stages they take,
 * each manifest read and parsed, every model and file it names given or
 * written by an earlier step); then stages run in order. A manifest stage
 * goes through shared's `loadManifestJob` (all of its checks, now that the
 * files earlier steps wrote exist) and the caller's `runJob`; a step stage
 * runs from the registry. Paths in a manifest are relative to the
 * manifest's folder, the pipeline's to the pipeline's folder; files a step
 * writes sit in the pipeline's folder.
 */
import { strFromU8 } from 'fflate';
import type { JobSpec } from '../job/spec.ts';
import { loadManifestJob, type ManifestEnv } from '../manifest/build-manifest-job.ts';
import { parseManifestDoc } from '../manifest/manifest-doc.ts';
import { type ManifestFormat, manifestFormatOf } from '../manifest/manifest-text.ts';
import type { TensorMap } from '../tensor.ts';
import {
  folderOf,
  type PipelineDoc,
  type PipelineProblem,
  type PipelineStage,
  parsePipelineDoc,
  resolvePath,
} from './pipeline-doc.ts';
import { checkStepParams, PIPELINE_STEPS, type StepParams } from './steps.ts';

/** Where a stage is in its pipeline. */
export interface StageRef {
  readonly id: string;
  /** 0-based position, and the pipeline's stage count. */
  readonly index: number;
  readonly count: number;
}

/** What running a pipeline needs of its runtime. */
export interface PipelineEnv extends Omit<ManifestEnv, 'read'> {
  /** A file by its path relative to the pipeline's folder (or absolute), or null when there is none. */
  readonly read: (path: string) => Promise<Uint8Array | null>;
  /** Whether a file exists, without reading it. Default: `read` gives bytes. */
  readonly exists?: (path: string) => Promise<boolean>;
  /** Runs a manifest stage's job to its end; its verified outputs by task id. Throws when it fails. */
  readonly runJob: (
    spec: JobSpec,
    stage: StageRef & { readonly manifest: string },
  ) => Promise<ReadonlyMap<string, TensorMap>>;
  /** Called as stages start and end (a line for people with each). */
  readonly onStage?: (event: PipelineStageEvent) => void;
}

export type PipelineStageEvent =
  | { readonly type: 'start'; readonly stage: StageRef; readonly line: string }
  | { readonly type: 'note'; readonly stage: StageRef; readonly line: string }
  | {
      readonly type: 'done';
      readonly stage: StageRef;
      readonly line: string;
      readonly output: StageOutput;
    };

/** What a stage gave. */
export type StageOutput =
  | { readonly kind: 'manifest'; readonly results: ReadonlyMap<string, TensorMap> }
  | {
      readonly kind: 'step';
      readonly step: string;
      readonly files: Readonly<Record<string, Uint8Array>>;
      readonly value: unknown;
    };

export type PipelineResult =
  | {
      readonly ok: true;
      /** The last stage's value (a step's), or undefined when the last stage is a manifest. */
      readonly value: unknown;
      readonly outputs: ReadonlyMap<string, StageOutput>;
    }
  | { readonly ok: false; readonly problems: readonly PipelineProblem[] };

/** A pipeline that passed `checkPipeline`, with its steps' parameters (defaults filled in) by stage. */
export interface CheckedPipeline {
  readonly doc: PipelineDoc;
  readonly params: ReadonlyMap<string, StepParams>;
}

const describe = (s: PipelineStage) =>
  s.kind === 'manifest' ? `stage ${s.id} (${s.path})` : `stage ${s.id} (${s.step})`;

/** Every check that needs no stage's output; the problems, or the checked pipeline. */
export async function checkPipeline(
  doc: PipelineDoc,
  env: Pick<PipelineEnv, 'read' | 'exists'>,
): Promise<{ ok: true; checked: CheckedPipeline } | { ok: false; problems: PipelineProblem[] }> {
  const problems: PipelineProblem[] = [];
  const exists = env.exists ?? (async (p: string) => (await env.read(p)) !== null);
  const before = new Map<string, PipelineStage>();
  const written = new Set<string>();
  const params = new Map<string, StepParams>();
  const present = async (path: string) =>
    written.has(resolvePath('', path)) || (await exists(path));
  for (const s of doc.stages) {
    const at = describe(s);
    if (s.kind === 'step') {
      const step = PIPELINE_STEPS.get(s.step);
      if (!step) {
        problems.push({
          code: 'unknown-step',
          message: `${at}: no step "${s.step}" (steps: ${[...PIPELINE_STEPS.keys()].join(', ')})`,
        });
      } else {
        const r = checkStepParams(step, s.params);
        if (!r.ok)
          for (const m of r.problems) problems.push({ code: 'bad-step', message: `${at}: ${m}` });
        else {
          params.set(s.id, r.params);
          for (const [k, p] of Object.entries(step.params)) {
            const v = r.params[k];
            if (typeof v !== 'string') continue;
            if (p.type === 'stage') {
              const src = before.get(v);
              const kind = src ? (src.kind === 'manifest' ? 'manifest' : src.step) : undefined;
              if (!src) {
                problems.push({
                  code: 'unknown-stage',
                  message: `${at}: ${k} "${v}" is no stage before it (before it: ${[...before.keys()].join(', ') || 'none'})`,
                });
              } else if (kind !== p.kind) {
                problems.push({
                  code: 'unknown-stage',
                  message: `${at}: ${k} "${v}" is a ${kind === 'manifest' ? 'manifest' : `${kind} step`}; it needs ${p.kind === 'manifest' ? 'a manifest stage' : `an ${p.kind} stage`}`,
                });
              }
            } else if (p.type === 'file' && !(await present(v))) {
              problems.push({ code: 'missing-file', message: `${at}: ${k}: no file ${v}` });
            }
          }
          for (const f of step.writes(r.params)) written.add(resolvePath('', f));
        }
      }
    } else if (!(await exists(s.path))) {
      problems.push({ code: 'missing-file', message: `${at}: no file ${s.path}` });
    } else {
      const bytes = await env.read(s.path);
      const parsed = parseManifestDoc(
        strFromU8(bytes ?? new Uint8Array()),
        manifestFormatOf(s.path),
      );
      if (!parsed.ok) {
        for (const p of parsed.problems)
          problems.push({ code: p.code, message: `${at}: ${p.message}` });
      } else {
        const base = folderOf(s.path);
        const files = new Set<string>();
        for (const [name, path] of Object.entries(parsed.doc.models)) {
          if (!(await present(resolvePath(base, path)))) {
            problems.push({
              code: 'missing-file',
              message: `${at}: model ${name}: no file ${path}`,
            });
          }
        }
        for (const t of parsed.doc.tasks) {
          for (const f of Object.values(t.feeds)) {
            if (f.kind !== 'file' || files.has(f.path)) continue;
            files.add(f.path);
            if (!(await present(resolvePath(base, f.path)))) {
              problems.push({
                code: 'missing-file',
                message: `${at}: task ${t.id}: no file ${f.path} (given with the pipeline or written by a step before it)`,
              });
            }
          }
        }
      }
    }
    before.set(s.id, s);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, checked: { doc, params } };
}

/**
 * Parses (JSON, or YAML with `format` 'yaml'), checks and runs a pipeline.
 * Resolves with the problems when it is refused or a stage fails; never
 * rejects for those.
 */
export async function runPipeline(
  raw: unknown,
  env: PipelineEnv,
  format: ManifestFormat = 'json',
): Promise<PipelineResult> {
  const parsed = parsePipelineDoc(raw, format);
  if (!parsed.ok) return parsed;
  const checked = await checkPipeline(parsed.doc, env);
  if (!checked.ok) return checked;
  const { doc, params } = checked.checked;
  const outputs = new Map<string, StageOutput>();
  const files = new Map<string, Uint8Array>();
  const readFile = async (path: string) =>
    files.get(resolvePath('', path)) ?? (await env.read(path));
  let value: unknown;
  for (const [index, s] of doc.stages.entries()) {
    const stage: StageRef = { id: s.id, index, count: doc.stages.length };
    const at = describe(s);
    const fail = (message: string): PipelineResult => ({
      ok: false,
      problems: [{ code: 'stage-failed', message: `${at}: ${message}` }],
    });
    env.onStage?.({ type: 'start', stage, line: `${at}: ${index + 1} of ${doc.stages.length}` });
    if (s.kind === 'manifest') {
      const bytes = await env.read(s.path);
      if (!bytes) return fail(`no file ${s.path}`);
      const base = folderOf(s.path);
      let loaded: Awaited<ReturnType<typeof loadManifestJob>>;
      try {
        loaded = await loadManifestJob(
          strFromU8(bytes),
          { ...env, read: (p) => readFile(resolvePath(base, p)) },
          manifestFormatOf(s.path),
        );
      } catch (e) {
        return fail((e as Error).message ?? String(e));
      }
      if (!loaded.ok) {
        return {
          ok: false,
          problems: loaded.problems.map((p) => ({ code: p.code, message: `${at}: ${p.message}` })),
        };
      }
      let results: ReadonlyMap<string, TensorMap>;
      try {
        results = await env.runJob(loaded.spec, { ...stage, manifest: s.path });
      } catch (e) {
        return fail((e as Error).message ?? String(e));
      }
      const output: StageOutput = { kind: 'manifest', results };
      outputs.set(s.id, output);
      value = undefined;
      env.onStage?.({
        type: 'done',
        stage,
        line: `${at}: results of ${results.size} tasks`,
        output,
      });
      continue;
    }
    const step = PIPELINE_STEPS.get(s.step)!;
    let out: Awaited<ReturnType<typeof step.run>>;
    try {
      out = await step.run(params.get(s.id)!, {
        results: (id) => {
          const o = outputs.get(id);
          if (o?.kind !== 'manifest') throw new Error(`no manifest stage ${id}`);
          return o.results;
        },
        value: (id) => {
          const o = outputs.get(id);
          if (o?.kind !== 'step') throw new Error(`no step stage ${id}`);
          return o.value;
        },
        read: async (path) => {
          const b = await readFile(path);
          if (!b) throw new Error(`no file ${path}`);
          return b;
        },
        say: (line) => env.onStage?.({ type: 'note', stage, line: `${at}: ${line}` }),
      });
    } catch (e) {
      return fail((e as Error).message ?? String(e));
    }
    for (const [name, bytes] of Object.entries(out.files ?? {}))
      files.set(resolvePath('', name), bytes);
    const output: StageOutput = {
      kind: 'step',
      step: s.step,
      files: out.files ?? {},
      value: out.value,
    };
    outputs.set(s.id, output);
    value = out.value;
    env.onStage?.({ type: 'done', stage, line: `${at}: done`, output });
  }
  return { ok: true, value, outputs };
}

/**
 * The registry of built-in pipeline steps: work a submitter does between a
 * pipeline's manifests (donors run ONNX graphs only). A step declares its
 * parameters, so a pipeline naming an unknown step, an unknown or missing
 * parameter, a stage that is not there or a file that is not given is
 * refused before anything is submitted; then it runs on the earlier stages'
 * outputs and may write files later manifests name. Pure: the same steps
 * run in `peergrid run pipeline.json` and in the page.
 */
import type { TensorMap } from '../tensor.ts';
import { OCR_STEPS } from './ocr-steps.ts';

/** One parameter of a step. */
export type StepParam =
  /** An earlier stage's id: a manifest stage ('manifest') or a step stage of the named step. */
  | {
      readonly type: 'stage';
      readonly kind: 'manifest' | string;
      readonly required?: boolean;
      readonly doc: string;
    }
  /** A file the pipeline is given (path relative to its folder), or one an earlier step wrote. */
  | { readonly type: 'file'; readonly required?: boolean; readonly doc: string }
  | {
      readonly type: 'string';
      readonly default?: string;
      readonly pattern?: RegExp;
      readonly doc: string;
    }
  | {
      readonly type: 'int' | 'number';
      readonly default?: number;
      readonly min?: number;
      readonly max?: number;
      readonly doc: string;
    };

/** What a step sees of the pipeline while it runs. */
export interface StepIo {
  /** A manifest stage's verified outputs, by task id. */
  results(stage: string): ReadonlyMap<string, TensorMap>;
  /** An earlier step's value. */
  value(stage: string): unknown;
  /** A file by the pipeline's path (files earlier steps wrote first); throws when there is none. */
  read(path: string): Promise<Uint8Array>;
  /** A progress line. */
  say(line: string): void;
}

/** What a step gives later stages. */
export interface StepOutput {
  /** Files by name (in the pipeline's folder), for later manifests. */
  readonly files?: Readonly<Record<string, Uint8Array>>;
  /** A JSON-able value for later steps (`io.value`); the last stage's is the pipeline's result. */
  readonly value?: unknown;
}

/** Parameters after the checks: given values, or the declared defaults. */
export type StepParams = Readonly<Record<string, string | number | undefined>>;

export interface PipelineStep {
  readonly name: string;
  /** One line for people (help texts, errors). */
  readonly summary: string;
  readonly params: Readonly<Record<string, StepParam>>;
  /** Files the step writes, from its parameters (checked against later manifests before anything runs). */
  writes(params: StepParams): readonly string[];
  /** Runs the step; throws an Error with a message for the user on bad data. */
  run(params: StepParams, io: StepIo): Promise<StepOutput>;
}

/** The built-in steps by name. */
export const PIPELINE_STEPS: ReadonlyMap<string, PipelineStep> = new Map(
  [...OCR_STEPS].map((s) => [s.name, s]),
);

/**
 * A step's parameters checked against its declaration: unknown names,
 * missing required ones, wrong types, out of range. Returns the values with
 * defaults filled in, or the problems (messages).
 */
export function checkStepParams(
  step: PipelineStep,
  raw: Readonly<Record<string, unknown>>,
): { ok: true; params: StepParams } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const out: Record<string, string | number | undefined> = {};
  for (const k of Object.keys(raw)) {
    if (!Object.hasOwn(step.params, k)) {
      problems.push(
        `unknown parameter "${k}" (${step.name} takes ${Object.keys(step.params).join(', ')})`,
      );
    }
  }
  for (const [k, p] of Object.entries(step.params)) {
    const v = raw[k];
    if (v === undefined) {
      if ((p.type === 'stage' || p.type === 'file') && p.required !== false) {
        problems.push(`parameter "${k}" is missing: ${p.doc}`);
      } else if ('default' in p) out[k] = p.default;
      continue;
    }
    if (p.type === 'stage' || p.type === 'file' || p.type === 'string') {
      if (typeof v !== 'string' || v === '')
        problems.push(`parameter "${k}" must be a string: ${p.doc}`);
      else if (p.type === 'string' && p.pattern && !p.pattern.test(v)) {
        problems.push(`parameter "${k}" is "${v}": ${p.doc}`);
      } else out[k] = v;
      continue;
    }
    const ok =
      typeof v === 'number' &&
      Number.isFinite(v) &&
      (p.type === 'number' || Number.isInteger(v)) &&
      (p.min === undefined || v >= p.min) &&
      (p.max === undefined || v <= p.max);
    if (!ok) {
      const range = `${p.min !== undefined ? ` >= ${p.min}` : ''}${p.min !== undefined && p.max !== undefined ? ' and' : ''}${p.max !== undefined ? ` <= ${p.max}` : ''}`;
      problems.push(
        `parameter "${k}" must be ${p.type === 'int' ? 'an integer' : 'a number'}${range}: ${p.doc}`,
      );
    } else out[k] = v;
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, params: out };
}

/** The registry as lines for help texts: `name  summary`, each line after `indent`. */
export function pipelineStepsText(indent = '  '): string {
  return [...PIPELINE_STEPS.values()].map((s) => `${indent}${s.name}  ${s.summary}`).join('\n');
}

/**
 * A job manifest as a person writes it (JSON): models by path, tasks whose
 * feeds come from files, constants or other tasks' outputs, fan-out over the
 * rows of a file and fan-in of many outputs, and a policy. This file reads
 * the JSON into a typed document and refuses malformed fields, every problem
 * listed; `build-manifest-job.ts` turns a document into a `JobSpec`.
 *
 * ```json
 * {
 *   "name": "encoder",
 *   "models": { "enc": "encoder.onnx" },
 *   "tasks": [
 *     { "id": "embed", "model": "enc", "forEach": { "rows": 2 },
 *       "feeds": {
 *         "input_ids": { "file": "inputs.npz", "split": true },
 *         "attention_mask": { "file": "inputs.npz", "split": true } } },
 *     { "id": "head", "model": "head",
 *       "feeds": { "part{i}": { "from": "embed", "output": "pooled" } } }
 *   ],
 *   "policy": { "replicas": 2, "compare": "tolerance:1e-5" }
 * }
 * ```
 */
import { type CompareRule, DEFAULT_POLICY, type Policy } from '../job/spec.ts';
import { type DType, isDType } from '../tensor.ts';
import type { ManifestProblem } from './manifest-problems.ts';
import { type ManifestFormat, parseManifestText } from './manifest-text.ts';

/** The one manifest version this reader knows. */
export const MANIFEST_VERSION = 1;

/** Where a feed's tensor comes from. */
export type ManifestFeed =
  /**
   * A tensor file (.npy, .json, .npz). `key` picks one tensor of a file that
   * holds several by name (default: the feed's name). `split`: in a fan-out
   * task, each task takes its block of rows; otherwise every task takes all.
   */
  | {
      readonly kind: 'file';
      readonly path: string;
      readonly key?: string;
      readonly split: boolean;
    }
  /** A constant: a number or a (nested) array; dtype defaults to the model's. */
  | { readonly kind: 'value'; readonly value: number | readonly unknown[]; readonly dtype?: DType }
  /** An output of another task (in a fan-out task: of the same index, when that task fans out too). */
  | { readonly kind: 'from'; readonly task: string; readonly output: string };

export interface ManifestTask {
  /** Unique; a fan-out task's tasks are `ID-0`, `ID-1`, …. */
  readonly id: string;
  /** A key of `models`. */
  readonly model: string;
  /**
   * Feeds by model input name. A name holding `{i}` gathers every task of
   * the fan-out task it comes `from` (fan-in): `part{i}` is `part0`, `part1`, ….
   */
  readonly feeds: Readonly<Record<string, ManifestFeed>>;
  /** Output names to keep; all when absent. */
  readonly outputs?: readonly string[];
  /** Fan-out: a task per `rows` rows of the split files (or per task of the fan-out task it takes from). */
  readonly forEach?: { readonly rows: number };
}

export interface ManifestDoc {
  readonly name?: string;
  /** When given, the job id derives from it (a rerun with other files resumes the same job). */
  readonly idempotencyKey?: string;
  /** Model paths by the name tasks use. */
  readonly models: Readonly<Record<string, string>>;
  readonly tasks: readonly ManifestTask[];
  readonly policy?: Partial<Policy>;
}

/** What a fan-in feed name holds: `{i}`. */
export const GATHER_MARK = '{i}';

const DOC_KEYS = new Set(['version', 'name', 'idempotencyKey', 'models', 'tasks', 'policy']);
const TASK_KEYS = new Set(['id', 'model', 'feeds', 'outputs', 'forEach']);
/** Task ids: a letter or digit first; letters, digits and `_ . : -` after; no `{`, `/` or spaces. */
const TASK_ID = /^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/;

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => x !== null && typeof x === 'object' && !Array.isArray(x);

/**
 * The text (JSON, or YAML with `format` 'yaml') or value of a manifest → a
 * document, or every problem found.
 */
export function parseManifestDoc(
  raw: unknown,
  format: ManifestFormat = 'json',
): { ok: true; doc: ManifestDoc } | { ok: false; problems: ManifestProblem[] } {
  const problems: ManifestProblem[] = [];
  const bad = (at: string, message: string): void => {
    problems.push({ code: 'bad-manifest', message: `${at}: ${message}` });
  };
  if (typeof raw === 'string') {
    const r = parseManifestText(raw, format);
    if (!r.ok) return { ok: false, problems: [{ code: 'bad-manifest', message: r.error }] };
    raw = r.value;
  }
  if (!isObj(raw)) {
    return { ok: false, problems: [{ code: 'bad-manifest', message: 'a manifest is an object' }] };
  }
  for (const k of Object.keys(raw)) if (!DOC_KEYS.has(k)) bad(k, 'unknown field');
  if (raw.version !== undefined && raw.version !== MANIFEST_VERSION) {
    bad('version', `this reader knows version ${MANIFEST_VERSION}, got ${String(raw.version)}`);
  }
  for (const k of ['name', 'idempotencyKey'] as const) {
    if (raw[k] !== undefined && typeof raw[k] !== 'string') bad(k, 'must be a string');
  }
  const models: Record<string, string> = {};
  if (!isObj(raw.models) || Object.keys(raw.models).length === 0) {
    bad('models', 'give the models by name: {"name": "path/model.onnx"}');
  } else {
    for (const [name, path] of Object.entries(raw.models)) {
      if (typeof path !== 'string' || path === '') bad(`models.${name}`, 'must be a file path');
      else models[name] = path;
    }
  }
  const tasks: ManifestTask[] = [];
  if (!Array.isArray(raw.tasks) || raw.tasks.length === 0) bad('tasks', 'give a list of tasks');
  else {
    raw.tasks.forEach((t, i) => {
      parseTask(t, i, bad, tasks);
    });
  }
  const policy = raw.policy === undefined ? undefined : parsePolicy(raw.policy, bad);
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    doc: {
      ...(typeof raw.name === 'string' ? { name: raw.name } : {}),
      ...(typeof raw.idempotencyKey === 'string' ? { idempotencyKey: raw.idempotencyKey } : {}),
      models,
      tasks,
      ...(policy ? { policy } : {}),
    },
  };
}

function parseTask(
  raw: unknown,
  index: number,
  bad: (at: string, message: string) => void,
  out: ManifestTask[],
): void {
  let at = `tasks[${index}]`;
  if (!isObj(raw)) {
    bad(at, 'a task is an object {id, model, feeds}');
    return;
  }
  if (typeof raw.id === 'string') at = `task ${raw.id}`;
  for (const k of Object.keys(raw)) if (!TASK_KEYS.has(k)) bad(`${at}.${k}`, 'unknown field');
  const id = typeof raw.id === 'string' && TASK_ID.test(raw.id) ? raw.id : null;
  if (!id) bad(at, 'id must be letters, digits and _ . : - (a letter or digit first)');
  if (typeof raw.model !== 'string') bad(at, 'model must name one of "models"');
  let forEach: { rows: number } | undefined;
  if (raw.forEach !== undefined) {
    const rows = isObj(raw.forEach) ? (raw.forEach.rows ?? 1) : undefined;
    if (
      !isObj(raw.forEach) ||
      Object.keys(raw.forEach).some((k) => k !== 'rows') ||
      !Number.isInteger(rows) ||
      (rows as number) < 1
    ) {
      bad(`${at}.forEach`, 'must be {"rows": N} with N an integer >= 1 (rows per task)');
    } else forEach = { rows: rows as number };
  }
  let outputs: string[] | undefined;
  if (raw.outputs !== undefined) {
    if (!Array.isArray(raw.outputs) || !raw.outputs.every((o) => typeof o === 'string')) {
      bad(`${at}.outputs`, 'must be a list of output names');
    } else outputs = raw.outputs as string[];
  }
  const feeds: Record<string, ManifestFeed> = {};
  if (!isObj(raw.feeds)) bad(`${at}.feeds`, 'give the feeds by model input name');
  else {
    for (const [name, f] of Object.entries(raw.feeds)) {
      const feed = parseFeed(f, `${at} feed ${name}`, bad);
      if (!feed) continue;
      if (feed.kind === 'file' && feed.split && !forEach) {
        bad(`${at} feed ${name}`, '"split" needs a fan-out task ("forEach")');
      }
      if (name.includes(GATHER_MARK) && feed.kind !== 'from') {
        bad(`${at} feed ${name}`, `a name with ${GATHER_MARK} gathers a fan-out task's outputs`);
      }
      feeds[name] = feed;
    }
  }
  if (id && typeof raw.model === 'string') {
    out.push({
      id,
      model: raw.model,
      feeds,
      ...(outputs ? { outputs } : {}),
      ...(forEach ? { forEach } : {}),
    });
  }
}

/** Records a problem; null for the caller to return. */
function refuse(bad: (at: string, message: string) => void, at: string, message: string): null {
  bad(at, message);
  return null;
}

function parseFeed(
  raw: unknown,
  at: string,
  bad: (at: string, message: string) => void,
): ManifestFeed | null {
  const forms =
    'one of {"file": PATH[, "key": NAME][, "split": true]}, {"value": V, "dtype": D} or {"from": TASK, "output": NAME}';
  if (!isObj(raw)) return refuse(bad, at, `must be ${forms}`);
  const keys = Object.keys(raw);
  const only = (allowed: string[]) => {
    const extra = keys.filter((k) => !allowed.includes(k));
    if (extra.length > 0) bad(at, `unknown field ${extra.join(', ')} (${forms})`);
    return extra.length === 0;
  };
  if ('file' in raw) {
    if (!only(['file', 'key', 'split'])) return null;
    if (typeof raw.file !== 'string' || raw.file === '')
      return refuse(bad, at, 'file must be a path');
    if (raw.key !== undefined && typeof raw.key !== 'string')
      return refuse(bad, at, 'key must be a string');
    if (raw.split !== undefined && typeof raw.split !== 'boolean') {
      return refuse(bad, at, 'split must be true or false');
    }
    return {
      kind: 'file',
      path: raw.file,
      ...(typeof raw.key === 'string' ? { key: raw.key } : {}),
      split: raw.split === true,
    };
  }
  if ('value' in raw) {
    if (!only(['value', 'dtype'])) return null;
    if (typeof raw.value !== 'number' && !Array.isArray(raw.value)) {
      return refuse(bad, at, 'value must be a number or a (nested) array of numbers');
    }
    if (raw.dtype !== undefined && !isDType(raw.dtype)) {
      return refuse(bad, at, `unknown dtype ${String(raw.dtype)}`);
    }
    return {
      kind: 'value',
      value: raw.value as number | unknown[],
      ...(isDType(raw.dtype) ? { dtype: raw.dtype } : {}),
    };
  }
  if ('from' in raw) {
    if (!only(['from', 'output'])) return null;
    if (typeof raw.from !== 'string' || typeof raw.output !== 'string') {
      return refuse(bad, at, '"from" names a task and "output" one of its outputs');
    }
    return { kind: 'from', task: raw.from, output: raw.output };
  }
  return refuse(bad, at, `must be ${forms}`);
}

const NUMBER_FIELDS = [
  'replicas',
  'quorum',
  'maxReplicas',
  'taskDeadlineMs',
  'ackTimeoutMs',
  'maxAttempts',
  'auditRate',
  'soloAuditRate',
  'youngAuditRate',
  'maxSoloChance',
  'targetError',
  'saboteurShare',
  'anchorShare',
] as const satisfies readonly (keyof Policy)[];

/**
 * The policy's fields by their `Policy` names (ranges are checked with the
 * job); `compare` may be written as the CLI's `--compare` text.
 */
function parsePolicy(raw: unknown, bad: (at: string, m: string) => void): Partial<Policy> | null {
  if (!isObj(raw)) return refuse(bad, 'policy', 'must be an object');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const at = `policy.${k}`;
    if (!Object.hasOwn(DEFAULT_POLICY, k)) {
      bad(at, `unknown field (known: ${Object.keys(DEFAULT_POLICY).join(', ')})`);
    } else if ((NUMBER_FIELDS as readonly string[]).includes(k)) {
      if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
      else bad(at, 'must be a number');
    } else if (k === 'adaptive') {
      if (typeof v === 'boolean') out[k] = v;
      else bad(at, 'must be true or false');
    } else if (k === 'trustedDonors') {
      if (Array.isArray(v) && v.every((d) => typeof d === 'string')) out[k] = v;
      else bad(at, 'must be a list of peer ids');
    } else if (k === 'compare') {
      const rule = typeof v === 'string' ? parseCompareRule(v) : compareObject(v);
      if (rule) out[k] = rule;
      else bad(at, 'must be exact, tolerance:ABS[,REL], argmax[:AXIS] or a rule object');
    }
  }
  return out as Partial<Policy>;
}

function compareObject(v: unknown): CompareRule | null {
  if (!isObj(v)) return null;
  if (v.kind === 'exact') return { kind: 'exact' };
  if (v.kind === 'tolerance' && typeof v.abs === 'number') {
    const rel = typeof v.rel === 'number' ? v.rel : v.abs;
    return v.abs >= 0 && rel >= 0 ? { kind: 'tolerance', abs: v.abs, rel } : null;
  }
  if (v.kind === 'argmax') {
    const axis = v.axis ?? -1;
    return Number.isInteger(axis) ? { kind: 'argmax', axis: axis as number } : null;
  }
  return null;
}

/** `exact`, `tolerance:ABS[,REL]` (REL defaults to ABS) or `argmax[:AXIS]` (default -1); null otherwise. */
export function parseCompareRule(raw: string): CompareRule | null {
  if (raw === 'exact') return { kind: 'exact' };
  const tol = /^tolerance:([^,]+)(?:,(.+))?$/.exec(raw);
  if (tol) {
    const abs = Number(tol[1]);
    const rel = tol[2] === undefined ? abs : Number(tol[2]);
    return abs >= 0 && rel >= 0 ? { kind: 'tolerance', abs, rel } : null;
  }
  const am = /^argmax(?::(-?\d+))?$/.exec(raw);
  if (am) return { kind: 'argmax', axis: am[1] === undefined ? -1 : Number(am[1]) };
  return null;
}

/**
 * A manifest → a `JobSpec` on the engine's own graph: a task is a `TaskSpec`;
 * a fan-out task over split files only is one `TaskGroup` (a million rows are
 * one group record and one blob); a fan-out task that takes another fan-out
 * task's outputs is explicit tasks `ID-i`, each taking task i's output; a
 * fan-in feed `part{i}` is one `fromTask` feed per task gathered. Everything
 * is checked before a job exists: files, models, cycles, unknown outputs,
 * dtypes and shapes between stages, file and constant feeds against each
 * model's declared inputs. Pure: files come through `env.read`, models are
 * described by `env.describeModel`, hashes by `env.sha256`.
 */
import { strFromU8 } from 'fflate';
import { type DeclaredInput, shapeText } from '../feeds/declared-input.ts';
import { decodeNpy } from '../io/npy.ts';
import { decodeNpz, type NpzLimits } from '../io/npz.ts';
import { parseJsonTensor, parseJsonTensors } from '../io/tensor-json.ts';
import { canonicalBytes } from '../job/compare.ts';
import {
  type FeedSpec,
  type GroupFeedSpec,
  type JobSpec,
  type TaskGroup,
  type TaskSpec,
  validateJob,
} from '../job/spec.ts';
import { rowsOf } from '../job/task-source.ts';
import type { Sha256Hex } from '../platform.ts';
import type { Tensor } from '../tensor.ts';
import { checkFeedsAgainst } from './manifest-checks.ts';
import {
  GATHER_MARK,
  type ManifestDoc,
  type ManifestFeed,
  type ManifestTask,
  parseManifestDoc,
} from './manifest-doc.ts';
import type { ManifestProblem, ManifestProblemCode } from './manifest-problems.ts';
import type { ManifestFormat } from './manifest-text.ts';

/** A model's graph as its runtime reads it. */
export interface ModelDescription {
  readonly inputs: readonly DeclaredInput[];
  /** Outputs in the same form; a runtime that cannot tell an output's type gives dtype '' and shape null. */
  readonly outputs: readonly DeclaredInput[];
}

/** What the loader needs from its runtime (the CLI: node:fs and onnx-proto; the page: uploaded files and ORT). */
export interface ManifestEnv {
  /** The bytes of a file as the manifest names it, or null when there is no such file. */
  readonly read: (path: string) => Promise<Uint8Array | null>;
  /** A model's inputs and outputs; throws when the bytes are not a model it can read. */
  readonly describeModel: (bytes: Uint8Array) => Promise<ModelDescription> | ModelDescription;
  readonly sha256: Sha256Hex;
  /** Bounds on .npz files. Default `DEFAULT_NPZ_LIMITS`. */
  readonly npzLimits?: Partial<NpzLimits>;
}

/** One manifest task as it ended up in the job. */
export interface ManifestStage {
  readonly id: string;
  /** Tasks it became: 1, or the fan-out count. */
  readonly count: number;
  /** True for a fan-out task (tasks `ID-0` … `ID-(count-1)`). */
  readonly fanOut: boolean;
}

export type ManifestJobResult =
  | { readonly ok: true; readonly spec: JobSpec; readonly stages: readonly ManifestStage[] }
  | { readonly ok: false; readonly problems: readonly ManifestProblem[] };

/** The id of task `i` of a fan-out task. */
export const fanOutTaskId = (id: string, i: number) => `${id}-${i}`;

type FileContent =
  | { readonly kind: 'tensor'; readonly tensor: Tensor }
  | { readonly kind: 'named'; readonly tensors: Readonly<Record<string, Tensor>> };

/** A `from` feed resolved: the task, and which of its fan-out tasks when one is named (`embed-3`). */
interface Ref {
  readonly task: ManifestTask;
  readonly index?: number;
}

/**
 * Parses a manifest (JSON text, YAML text with `format` 'yaml', or a value)
 * and builds its job; every problem found is listed.
 */
export async function loadManifestJob(
  raw: unknown,
  env: ManifestEnv,
  format: ManifestFormat = 'json',
): Promise<ManifestJobResult> {
  const parsed = parseManifestDoc(raw, format);
  if (!parsed.ok) return parsed;
  return buildManifestJob(parsed.doc, env);
}

export async function buildManifestJob(
  doc: ManifestDoc,
  env: ManifestEnv,
): Promise<ManifestJobResult> {
  const problems: ManifestProblem[] = [];
  const fail = (code: ManifestProblemCode, message: string) => problems.push({ code, message });
  const done = () => ({ ok: false as const, problems });

  // The graph: ids, references, models named, cycles.
  const byId = new Map<string, ManifestTask>();
  for (const t of doc.tasks) {
    if (byId.has(t.id)) fail('duplicate-task', `task ${t.id} is given twice`);
    byId.set(t.id, t);
  }
  const resolve = (name: string): Ref | null => {
    const t = byId.get(name);
    if (t) return { task: t };
    const m = /^(.*)-(0|[1-9][0-9]*)$/.exec(name);
    const fan = m ? byId.get(m[1]!) : undefined;
    return fan?.forEach ? { task: fan, index: Number(m![2]) } : null;
  };
  for (const t of doc.tasks) {
    const m = /^(.*)-(0|[1-9][0-9]*)$/.exec(t.id);
    const fan = m ? byId.get(m[1]!) : undefined;
    if (fan?.forEach) {
      fail('duplicate-task', `task ${t.id} has the id of task ${m![2]} of fan-out task ${fan.id}`);
    }
    if (!Object.hasOwn(doc.models, t.model)) {
      fail(
        'unknown-model',
        `task ${t.id}: no model "${t.model}" (models: ${Object.keys(doc.models).join(', ')})`,
      );
    }
    for (const [name, f] of Object.entries(t.feeds)) {
      if (f.kind !== 'from') continue;
      const ref = resolve(f.task);
      if (!ref) fail('unknown-task', `task ${t.id} feed ${name}: no task "${f.task}"`);
      else if (ref.task === t)
        fail('cycle', `task ${t.id} feed ${name}: a task cannot take its own output`);
    }
  }
  if (problems.length > 0) return done();
  const order = topoOrder(doc.tasks, (t) =>
    Object.values(t.feeds).flatMap((f) => (f.kind === 'from' ? [resolve(f.task)!.task.id] : [])),
  );
  if ('cycle' in order) {
    fail('cycle', `tasks wait on each other: ${order.cycle.join(' -> ')}`);
    return done();
  }

  // Models and files, each read once.
  const models = new Map<string, { bytes: Uint8Array; hash: string; desc: ModelDescription }>();
  for (const name of new Set(doc.tasks.map((t) => t.model))) {
    const path = doc.models[name]!;
    const bytes = await env.read(path);
    if (!bytes) {
      fail('missing-file', `model ${name}: no file ${path}`);
      continue;
    }
    try {
      const desc = await env.describeModel(bytes);
      models.set(name, { bytes, hash: await env.sha256(bytes), desc });
    } catch (e) {
      fail(
        'bad-file',
        `model ${name} (${path}): not an ONNX model this runtime reads: ${String((e as Error).message ?? e)}`,
      );
    }
  }
  const files = new Map<string, FileContent | null>();
  for (const t of doc.tasks) {
    for (const f of Object.values(t.feeds)) {
      if (f.kind !== 'file' || files.has(f.path)) continue;
      const bytes = await env.read(f.path);
      if (!bytes) {
        fail('missing-file', `task ${t.id}: no file ${f.path}`);
        files.set(f.path, null);
        continue;
      }
      const content = readTensorFile(f.path, bytes, env.npzLimits);
      if (typeof content === 'string') fail('bad-file', content);
      files.set(f.path, typeof content === 'string' ? null : content);
    }
  }
  if (problems.length > 0) return done();

  // Tensors of file and value feeds.
  const tensors = new Map<ManifestFeed, Tensor>();
  for (const t of doc.tasks) {
    const declared = models.get(t.model)!.desc.inputs;
    for (const [name, f] of Object.entries(t.feeds)) {
      const at = `task ${t.id} feed ${name}`;
      if (f.kind === 'file') {
        const c = files.get(f.path)!;
        if (c.kind === 'tensor') {
          if (f.key !== undefined)
            fail('bad-file', `${at}: ${f.path} holds one tensor, not "${f.key}"`);
          else tensors.set(f, c.tensor);
        } else {
          const key = f.key ?? name;
          const got = Object.hasOwn(c.tensors, key) ? c.tensors[key] : undefined;
          if (got) tensors.set(f, got);
          else {
            fail(
              'bad-file',
              `${at}: ${f.path} has no tensor "${key}" (it has ${Object.keys(c.tensors).join(', ')}); name one with "key"`,
            );
          }
        }
      } else if (f.kind === 'value') {
        const d = declared.find((i) => i.name === name);
        const dtype = f.dtype ?? d?.dtype;
        const r = dtype
          ? parseJsonTensor({ dtype, data: f.value })
          : { ok: false as const, error: 'give its "dtype"' };
        if (r.ok) tensors.set(f, r.tensor);
        else fail('feed-mismatch', `${at}: ${r.error}`);
      }
    }
  }
  if (problems.length > 0) return done();

  // Fan-out counts, in dependency order.
  const counts = new Map<string, number>();
  for (const t of order.tasks) {
    if (!t.forEach) {
      counts.set(t.id, 1);
      continue;
    }
    const rows = t.forEach.rows;
    const votes: { count: number; why: string }[] = [];
    for (const [name, f] of Object.entries(t.feeds)) {
      if (f.kind === 'file' && f.split) {
        const tensor = tensors.get(f)!;
        const n = tensor.dims[0];
        if (n === undefined)
          fail('bad-fan-out', `task ${t.id} feed ${name}: a scalar has no rows to split`);
        else if (n % rows !== 0 || n === 0) {
          fail(
            'bad-fan-out',
            `task ${t.id} feed ${name}: ${n} rows do not split into blocks of ${rows}`,
          );
        } else votes.push({ count: n / rows, why: `${name} (${n} rows / ${rows})` });
      } else if (f.kind === 'from' && !name.includes(GATHER_MARK)) {
        const ref = resolve(f.task)!;
        if (ref.task.forEach && ref.index === undefined) {
          votes.push({ count: counts.get(ref.task.id)!, why: `${name} (from ${ref.task.id})` });
        }
      }
    }
    const first = votes[0];
    if (!first) {
      if (problems.length === 0) {
        fail(
          'bad-fan-out',
          `task ${t.id} fans out over nothing: split a file ("split": true) or take a fan-out task's output`,
        );
      }
      continue;
    }
    if (votes.some((v) => v.count !== first.count)) {
      fail(
        'bad-fan-out',
        `task ${t.id}: the fan-out counts disagree: ${votes.map((v) => `${v.why} = ${v.count}`).join(', ')}`,
      );
    }
    counts.set(t.id, first.count);
  }
  if (problems.length > 0) return done();

  // The graph's edges: outputs that exist, and fit the inputs they feed.
  for (const t of doc.tasks) {
    const model = models.get(t.model)!;
    const fanned = !!t.forEach;
    const gatheredNames: string[] = [];
    for (const [name, f] of Object.entries(t.feeds)) {
      if (f.kind !== 'from') continue;
      const at = `task ${t.id} feed ${name}`;
      const ref = resolve(f.task)!;
      const src = ref.task;
      const srcCount = counts.get(src.id)!;
      if (ref.index !== undefined && ref.index >= srcCount) {
        fail(
          'unknown-task',
          `${at}: ${src.id} has ${srcCount} tasks (${fanOutTaskId(src.id, 0)} … ${fanOutTaskId(src.id, srcCount - 1)}), not ${f.task}`,
        );
        continue;
      }
      const gather = name.includes(GATHER_MARK);
      if (gather && (!src.forEach || ref.index !== undefined)) {
        fail(
          'bad-fan-out',
          `${at}: ${GATHER_MARK} gathers the tasks of a fan-out task; ${f.task} is one task`,
        );
        continue;
      }
      if (gather && fanned) {
        fail(
          'bad-fan-out',
          `${at}: a fan-out task takes task i's output, it cannot gather them all`,
        );
        continue;
      }
      if (!gather && !fanned && src.forEach && ref.index === undefined) {
        fail(
          'bad-fan-out',
          `${at}: ${src.id} is ${srcCount} tasks; take one (${fanOutTaskId(src.id, 0)}) or gather them all with a feed name holding ${GATHER_MARK}`,
        );
        continue;
      }
      const srcModel = models.get(src.model)!;
      const out = srcModel.desc.outputs.find((o) => o.name === f.output);
      if (!out || (src.outputs && !src.outputs.includes(f.output))) {
        const kept = src.outputs ?? srcModel.desc.outputs.map((o) => o.name);
        fail(
          'unknown-output',
          `${at}: task ${src.id} has no output "${f.output}" (its outputs: ${kept.join(', ') || 'none'})`,
        );
        continue;
      }
      const names = gather
        ? Array.from({ length: srcCount }, (_, i) => name.replace(GATHER_MARK, String(i)))
        : [name];
      if (gather) gatheredNames.push(...names);
      for (const input of names) {
        const d = model.desc.inputs.find((i) => i.name === input);
        if (!d) {
          fail(
            'feed-mismatch',
            `${at}: model ${t.model} has no input "${input}" (its inputs: ${model.desc.inputs.map((i) => i.name).join(', ')})`,
          );
          break;
        }
        const mismatch = stageMismatch(out, d);
        if (mismatch) {
          fail(
            'stage-mismatch',
            `${at}: ${src.id}'s output "${f.output}" is ${mismatch.out}, input "${input}" of model ${t.model} takes ${mismatch.in}`,
          );
          break;
        }
      }
    }
    // File and value feeds against the rest of the model's inputs (one task's block of a split).
    const fromNames = new Set([
      ...gatheredNames,
      ...Object.entries(t.feeds).flatMap(([n, f]) =>
        f.kind === 'from' && !n.includes(GATHER_MARK) ? [n] : [],
      ),
    ]);
    const feeds: Record<string, Tensor> = {};
    for (const [name, f] of Object.entries(t.feeds)) {
      if (f.kind === 'from') continue;
      const tensor = tensors.get(f)!;
      feeds[name] = f.kind === 'file' && f.split ? rowsOf(tensor, 0, t.forEach!.rows) : tensor;
    }
    for (const message of checkFeedsAgainst(model.desc.inputs, fromNames, feeds)) {
      fail('feed-mismatch', `task ${t.id}: ${message}`);
    }
  }
  if (problems.length > 0) return done();

  // The job.
  const blobs: Record<string, Tensor> = {};
  const blobOf = async (t: Tensor) => {
    const hash = await env.sha256(canonicalBytes(t));
    blobs[hash] = t;
    return hash;
  };
  const specTasks: TaskSpec[] = [];
  const groups: TaskGroup[] = [];
  const stages: ManifestStage[] = [];
  for (const t of doc.tasks) {
    const model = models.get(t.model)!.hash;
    const count = counts.get(t.id)!;
    const outputs = t.outputs ? { outputs: t.outputs } : {};
    stages.push({ id: t.id, count, fanOut: !!t.forEach });
    const fromId = (f: ManifestFeed & { kind: 'from' }, i: number) => {
      const ref = resolve(f.task)!;
      if (ref.index !== undefined) return fanOutTaskId(ref.task.id, ref.index);
      return ref.task.forEach ? fanOutTaskId(ref.task.id, i) : ref.task.id;
    };
    if (!t.forEach) {
      const feeds: Record<string, FeedSpec> = {};
      for (const [name, f] of Object.entries(t.feeds)) {
        if (f.kind !== 'from') feeds[name] = { blob: await blobOf(tensors.get(f)!) };
        else if (name.includes(GATHER_MARK)) {
          const n = counts.get(f.task)!;
          for (let i = 0; i < n; i++) {
            feeds[name.replace(GATHER_MARK, String(i))] = {
              fromTask: fanOutTaskId(f.task, i),
              output: f.output,
            };
          }
        } else feeds[name] = { fromTask: fromId(f, 0), output: f.output };
      }
      specTasks.push({ id: t.id, model, feeds, ...outputs });
      continue;
    }
    const rows = t.forEach.rows;
    const takesOutputs = Object.values(t.feeds).some((f) => f.kind === 'from');
    if (!takesOutputs) {
      const feeds: Record<string, GroupFeedSpec> = {};
      for (const [name, f] of Object.entries(t.feeds)) {
        const hash = await blobOf(tensors.get(f)!);
        feeds[name] = f.kind === 'file' && f.split ? { rowsOf: hash, rows } : { blob: hash };
      }
      groups.push({
        idPrefix: fanOutTaskId(t.id, 0).slice(0, -1),
        count,
        model,
        feeds,
        ...outputs,
      });
      continue;
    }
    const shared: Record<string, FeedSpec> = {};
    for (const [name, f] of Object.entries(t.feeds)) {
      if (f.kind === 'value' || (f.kind === 'file' && !f.split)) {
        shared[name] = { blob: await blobOf(tensors.get(f)!) };
      }
    }
    for (let i = 0; i < count; i++) {
      const feeds: Record<string, FeedSpec> = { ...shared };
      for (const [name, f] of Object.entries(t.feeds)) {
        if (f.kind === 'from') feeds[name] = { fromTask: fromId(f, i), output: f.output };
        else if (f.kind === 'file' && f.split) {
          feeds[name] = { tensor: rowsOf(tensors.get(f)!, i * rows, (i + 1) * rows) };
        }
      }
      specTasks.push({ id: fanOutTaskId(t.id, i), model, feeds, ...outputs });
    }
  }
  const spec: JobSpec = {
    ...(doc.name !== undefined ? { name: doc.name } : {}),
    ...(doc.idempotencyKey !== undefined ? { idempotencyKey: doc.idempotencyKey } : {}),
    models: Object.fromEntries([...models.values()].map((m) => [m.hash, m.bytes])),
    ...(Object.keys(blobs).length > 0 ? { blobs } : {}),
    tasks: specTasks,
    ...(groups.length > 0 ? { groups } : {}),
    ...(doc.policy ? { policy: doc.policy } : {}),
  };
  for (const e of validateJob(spec)) fail('invalid-job', e.message);
  return problems.length > 0 ? done() : { ok: true, spec, stages };
}

/** Reads a tensor file by its extension; a string says why it cannot be used. */
function readTensorFile(
  path: string,
  bytes: Uint8Array,
  limits: Partial<NpzLimits> | undefined,
): FileContent | string {
  const ext = path.toLowerCase().replace(/^.*\./, '');
  if (ext === 'npy') {
    const r = decodeNpy(bytes);
    return r.ok ? { kind: 'tensor', tensor: r.tensor } : `${path}: ${r.error}`;
  }
  if (ext === 'npz') {
    const r = decodeNpz(bytes, limits);
    return r.ok ? { kind: 'named', tensors: r.tensors } : `${path}: ${r.error}`;
  }
  if (ext === 'json') {
    const r = parseJsonTensors(strFromU8(bytes), '');
    if (!r.ok) return `${path}: ${r.error}`;
    return r.named
      ? { kind: 'named', tensors: r.tensors }
      : { kind: 'tensor', tensor: r.tensors['']! };
  }
  return `${path}: a tensor file is .npy, .npz or .json`;
}

/** How a task's output and the input it feeds disagree, or null when they can fit. */
function stageMismatch(
  out: DeclaredInput,
  input: DeclaredInput,
): { out: string; in: string } | null {
  const text = (d: DeclaredInput) => `${d.dtype || 'of unknown type'} ${shapeText(d.shape)}`;
  if (out.dtype !== '' && out.dtype !== input.dtype) return { out: text(out), in: text(input) };
  if (out.shape === null || input.shape === null) return null;
  const fits =
    out.shape.length === input.shape.length &&
    out.shape.every((d, i) => {
      const e = input.shape![i];
      return typeof d !== 'number' || typeof e !== 'number' || d === e;
    });
  return fits ? null : { out: text(out), in: text(input) };
}

/** Tasks in dependency order, or one cycle. */
function topoOrder(
  tasks: readonly ManifestTask[],
  deps: (t: ManifestTask) => string[],
): { tasks: ManifestTask[] } | { cycle: string[] } {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const state = new Map<string, 1 | 2>();
  const out: ManifestTask[] = [];
  const path: string[] = [];
  const visit = (t: ManifestTask): string[] | null => {
    const s = state.get(t.id);
    if (s === 2) return null;
    if (s === 1) return [...path.slice(path.indexOf(t.id)), t.id];
    state.set(t.id, 1);
    path.push(t.id);
    for (const d of deps(t)) {
      const c = visit(byId.get(d)!);
      if (c) return c;
    }
    path.pop();
    state.set(t.id, 2);
    out.push(t);
    return null;
  };
  for (const t of tasks) {
    const c = visit(t);
    if (c) return { cycle: c };
  }
  return { tasks: out };
}

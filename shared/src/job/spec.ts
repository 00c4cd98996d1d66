/**
 * The job model: what a submitter hands to the engine. A job is a set of
 * content-addressed models and input tensors plus a DAG of tasks and a policy.
 */
import type { WireError } from '../errors.ts';
import type { Sha256Hex } from '../platform.ts';
import { byteLength, isDType, type Tensor } from '../tensor.ts';
import { canonicalBytes } from './compare.ts';
import { createTaskSource, taskCount } from './task-source.ts';
import { utf8 } from './utf8.ts';

/** How replica outputs are compared. */
export type CompareRule =
  | { readonly kind: 'exact' }
  /** |a-b| <= abs + rel*|b| elementwise; NaN never matches; -0 == 0. */
  | { readonly kind: 'tolerance'; readonly abs: number; readonly rel: number }
  /** Same argmax index along `axis` (label rule). */
  | { readonly kind: 'argmax'; readonly axis: number };

/** A feed of a task: a literal tensor (inline or by blob hash) or an output of another task. */
export type FeedSpec =
  | { readonly tensor: Tensor }
  | { readonly blob: string }
  | { readonly fromTask: string; readonly output: string };

export interface TaskSpec {
  /** Unique within the job. */
  readonly id: string;
  /** SHA-256 hex of a model in `JobSpec.models`. */
  readonly model: string;
  readonly feeds: Readonly<Record<string, FeedSpec>>;
  /** Output names to fetch; all outputs when absent. */
  readonly outputs?: readonly string[];
}

/** A feed of a group's task: a feed every task shares, or task i's block of `rows` rows of a blob. */
export type GroupFeedSpec =
  | { readonly tensor: Tensor }
  | { readonly blob: string }
  | { readonly rowsOf: string; readonly rows: number };

/**
 * Many tasks from one template (fan-out): task i (id `idPrefix` + i, i from
 * 0) takes rows [i·rows, (i+1)·rows) of each `rowsOf` blob, and the shared
 * feeds as they are. A job of a million tasks is one group and one tensor.
 */
export interface TaskGroup {
  /** Does not end in a digit; no other group's or task's id starts a group id. */
  readonly idPrefix: string;
  readonly count: number;
  readonly model: string;
  readonly feeds: Readonly<Record<string, GroupFeedSpec>>;
  readonly outputs?: readonly string[];
}

export interface Policy {
  /** Replicas per task for donors without a trusted record. Default 2. */
  readonly replicas: number;
  /** Matching results needed to accept. Default 2. */
  readonly quorum: number;
  /**
   * Results a task may grow to: a dispute between credible donors can take
   * several (see credibility.ts); past it the task waits for an anchor or
   * fails. Default 20.
   */
  readonly maxReplicas: number;
  /** Default `{kind:'exact'}`. */
  readonly compare: CompareRule;
  /** A lease not reported by then is re-issued. Default 60 000 ms. */
  readonly taskDeadlineMs: number;
  /** A lease not acknowledged by then is re-issued. Default 10 000 ms. */
  readonly ackTimeoutMs: number;
  /** Leases of one task that may end without a result before it fails. Default 5. */
  readonly maxAttempts: number;
  /**
   * Share of fresh tasks that get one hidden extra replica (an audit) on
   * another donor, sent with the task's other leases and indistinguishable
   * from them. The floor under adaptive replication. Default 0.1.
   */
  readonly auditRate: number;
  /** Share of tasks planned solo (one trusted donor) that get a hidden audit. Default 0.5. */
  readonly soloAuditRate: number;
  /**
   * Share of tasks whose leases all went to donors with a young record
   * (under `YOUNG_RECORD`, 100 confirmations) that get a hidden audit: fresh
   * identities are where a whitewashing cartel lives. Default 0.3.
   */
  readonly youngAuditRate: number;
  /** Let donors with an audited clean record run tasks alone (adaptive replication). Default true. */
  readonly adaptive: boolean;
  /**
   * Highest chance a donor runs a task alone, reached as its clean record
   * grows (BOINC's 1 − 1/CV, capped). Default 0.3.
   */
  readonly maxSoloChance: number;
  /**
   * A result is final when the bound on the chance that it is wrong is under
   * this; below it the engine adds replicas. The job completes only when
   * every result is final. Default 1e-4.
   */
  readonly targetError: number;
  /**
   * Share of donors assumed to be saboteurs, for the error bounds
   * (credibility of a donor with no audited record: 1 − this). Default 0.2.
   */
  readonly saboteurShare: number;
  /**
   * Donors trusted by public key (peer ids), such as the submitter's own node
   * workers: anchors, whose results are right by construction. Default none.
   */
  readonly trustedDonors: readonly string[];
  /** Share of fresh tasks an anchor computes, when one is on offer. Default 0.1. */
  readonly anchorShare: number;
}

/** Audited record under which a donor counts as young (see `Policy.youngAuditRate`). */
export const YOUNG_RECORD = 100;

export const DEFAULT_POLICY: Policy = {
  replicas: 2,
  quorum: 2,
  maxReplicas: 20,
  compare: { kind: 'exact' },
  taskDeadlineMs: 60_000,
  ackTimeoutMs: 10_000,
  maxAttempts: 5,
  auditRate: 0.1,
  soloAuditRate: 0.5,
  youngAuditRate: 0.3,
  adaptive: true,
  maxSoloChance: 0.3,
  targetError: 1e-4,
  saboteurShare: 0.2,
  trustedDonors: [],
  anchorShare: 0.1,
};

export interface JobSpec {
  /** Human label; not part of the id. */
  readonly name?: string;
  /** When given, the job id derives from it instead of the content. */
  readonly idempotencyKey?: string;
  /** Model bytes by SHA-256 hex. */
  readonly models: Readonly<Record<string, Uint8Array>>;
  /** Input tensors by SHA-256 hex of their canonical bytes (see `canonicalBytes`). */
  readonly blobs?: Readonly<Record<string, Tensor>>;
  readonly tasks: readonly TaskSpec[];
  /** Tasks from templates, after `tasks` (see `TaskGroup`, task-source.ts). */
  readonly groups?: readonly TaskGroup[];
  readonly policy?: Partial<Policy>;
}

export const JOB_ERROR_CODES = [
  'empty-job',
  'duplicate-task',
  'unknown-model',
  'unknown-blob',
  'dangling-reference',
  'cycle',
  'bad-tensor',
  'bad-policy',
  'hash-mismatch',
  'bad-group',
] as const;
export type JobErrorCode = (typeof JOB_ERROR_CODES)[number];
export interface JobError extends WireError {
  readonly code: JobErrorCode;
}

export function resolvePolicy(p: Partial<Policy> | undefined): Policy {
  return { ...DEFAULT_POLICY, ...p };
}

function policyErrors(p: Policy): JobError[] {
  const bad = (message: string): JobError => ({ code: 'bad-policy', message });
  const out: JobError[] = [];
  const int = (x: number, min: number) => Number.isInteger(x) && x >= min;
  if (!int(p.replicas, 1)) out.push(bad('replicas must be an integer >= 1'));
  if (!int(p.quorum, 1) || p.quorum > p.replicas) out.push(bad('quorum must be in 1..replicas'));
  if (!int(p.maxReplicas, p.replicas)) out.push(bad('maxReplicas must be >= replicas'));
  if (!int(p.maxAttempts, 1)) out.push(bad('maxAttempts must be an integer >= 1'));
  if (!(p.taskDeadlineMs > 0) || !(p.ackTimeoutMs > 0)) out.push(bad('timeouts must be > 0'));
  for (const r of [
    p.auditRate,
    p.soloAuditRate,
    p.youngAuditRate,
    p.maxSoloChance,
    p.anchorShare,
  ]) {
    if (!(r >= 0 && r < 1)) {
      out.push(bad('audit rates, maxSoloChance and anchorShare must be in [0, 1)'));
      break;
    }
  }
  if (!(p.targetError > 0 && p.targetError < 1)) out.push(bad('targetError must be in (0, 1)'));
  if (!(p.saboteurShare > 0 && p.saboteurShare < 0.5)) {
    out.push(bad('saboteurShare must be in (0, 0.5)'));
  }
  if (!Array.isArray(p.trustedDonors) || !p.trustedDonors.every((d) => typeof d === 'string')) {
    out.push(bad('trustedDonors must be a list of peer ids'));
  }
  const c = p.compare;
  if (c.kind === 'tolerance' && !(c.abs >= 0 && c.rel >= 0))
    out.push(bad('tolerance must be >= 0'));
  if (c.kind === 'argmax' && !Number.isInteger(c.axis))
    out.push(bad('argmax axis must be an integer'));
  return out;
}

function tensorOk(t: Tensor): boolean {
  return (
    isDType(t.dtype) &&
    t.dims.every((d) => Number.isInteger(d) && d >= 0) &&
    t.data instanceof Uint8Array &&
    t.data.byteLength === byteLength(t.dtype, t.dims)
  );
}

/**
 * Structural checks of a job: unique task ids, known models and blobs, no
 * dangling references, no cycles, a sane policy. Returns every error found;
 * an empty array means valid. Content hashes are checked by `verifyJobHashes`.
 */
export function validateJob(spec: JobSpec): JobError[] {
  const errors: JobError[] = [];
  errors.push(...groupErrors(spec));
  if (taskCount(spec) === 0) errors.push({ code: 'empty-job', message: 'a job needs a task' });
  const ids = new Set<string>();
  const source = createTaskSource(spec);
  for (const t of spec.tasks) {
    if (ids.has(t.id)) errors.push({ code: 'duplicate-task', message: `task ${t.id} twice` });
    ids.add(t.id);
  }
  const known = (id: string) => ids.has(id) || source.indexOf(id) >= 0;
  const deps = new Map<string, string[]>();
  for (const t of spec.tasks) {
    if (!Object.hasOwn(spec.models, t.model)) {
      errors.push({ code: 'unknown-model', message: `task ${t.id}: no model ${t.model}` });
    }
    const d: string[] = [];
    for (const [name, f] of Object.entries(t.feeds)) {
      if ('fromTask' in f) {
        if (!known(f.fromTask)) {
          errors.push({
            code: 'dangling-reference',
            message: `task ${t.id} feed ${name}: no task ${f.fromTask}`,
          });
        } else d.push(f.fromTask);
      } else if ('blob' in f) {
        if (!spec.blobs || !Object.hasOwn(spec.blobs, f.blob)) {
          errors.push({
            code: 'unknown-blob',
            message: `task ${t.id} feed ${name}: no blob ${f.blob}`,
          });
        }
      } else if (!tensorOk(f.tensor)) {
        errors.push({ code: 'bad-tensor', message: `task ${t.id} feed ${name}: malformed tensor` });
      }
    }
    deps.set(t.id, d);
  }
  for (const [hash, t] of Object.entries(spec.blobs ?? {})) {
    if (!tensorOk(t))
      errors.push({ code: 'bad-tensor', message: `blob ${hash}: malformed tensor` });
  }
  const cycle = findCycle(deps);
  if (cycle) errors.push({ code: 'cycle', message: `cycle: ${cycle.join(' -> ')}` });
  errors.push(...policyErrors(resolvePolicy(spec.policy)));
  return errors;
}

/** A group's template and its blobs: prefixes that keep ids apart, row blocks that fit. */
function groupErrors(spec: JobSpec): JobError[] {
  const out: JobError[] = [];
  const bad = (g: TaskGroup, message: string) =>
    out.push({ code: 'bad-group', message: `group ${String(g.idPrefix)}: ${message}` });
  const prefixes = (spec.groups ?? []).map((g) => g.idPrefix);
  for (const g of spec.groups ?? []) {
    if (typeof g.idPrefix !== 'string' || g.idPrefix === '' || /[0-9]$/.test(g.idPrefix)) {
      bad(g, 'idPrefix must be a non-empty string not ending in a digit');
      continue;
    }
    if (prefixes.some((p) => p !== g.idPrefix && p.startsWith(g.idPrefix))) {
      bad(g, "another group's idPrefix starts with it");
    }
    if (prefixes.indexOf(g.idPrefix) !== prefixes.lastIndexOf(g.idPrefix)) bad(g, 'twice');
    if (!Number.isInteger(g.count) || g.count < 1) bad(g, 'count must be an integer >= 1');
    if (!Object.hasOwn(spec.models, g.model)) bad(g, `no model ${g.model}`);
    for (const t of spec.tasks) {
      if (t.id.startsWith(g.idPrefix)) bad(g, `task ${t.id} has an id of the group's form`);
    }
    for (const [name, f] of Object.entries(g.feeds ?? {})) {
      if ('fromTask' in f) bad(g, `feed ${name}: a group's feeds cannot come from a task`);
      else if ('rowsOf' in f || 'blob' in f) {
        const hash = 'rowsOf' in f ? f.rowsOf : f.blob;
        const b = spec.blobs?.[hash];
        if (!b) {
          out.push({
            code: 'unknown-blob',
            message: `group ${g.idPrefix} feed ${name}: no blob ${hash}`,
          });
          continue;
        }
        if ('rowsOf' in f) {
          const rows = b.dims[0] ?? 0;
          if (!Number.isInteger(f.rows) || f.rows < 1)
            bad(g, `feed ${name}: rows must be an integer >= 1`);
          else if (rows !== g.count * f.rows) {
            bad(
              g,
              `feed ${name}: ${g.count} tasks × ${f.rows} rows need ${g.count * f.rows} rows, the blob has ${rows}`,
            );
          }
        }
      } else if (!tensorOk(f.tensor)) bad(g, `feed ${name}: malformed tensor`);
    }
  }
  return out;
}

/** Iterative DFS; returns one cycle's path when there is one. */
function findCycle(deps: ReadonlyMap<string, readonly string[]>): string[] | null {
  const color = new Map<string, 1 | 2>();
  for (const root of deps.keys()) {
    if (color.has(root)) continue;
    const stack: { id: string; i: number }[] = [{ id: root, i: 0 }];
    color.set(root, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const next = deps.get(top.id)?.[top.i++];
      if (next === undefined) {
        color.set(top.id, 2);
        stack.pop();
      } else if (color.get(next) === 1) {
        const from = stack.findIndex((s) => s.id === next);
        return [...stack.slice(from).map((s) => s.id), next];
      } else if (!color.has(next)) {
        color.set(next, 1);
        stack.push({ id: next, i: 0 });
      }
    }
  }
  return null;
}

/** Checks that every model and blob is stored under the SHA-256 of its bytes. */
export async function verifyJobHashes(spec: JobSpec, sha256: Sha256Hex): Promise<JobError[]> {
  const errors: JobError[] = [];
  for (const [hash, bytes] of Object.entries(spec.models)) {
    if ((await sha256(bytes)) !== hash) {
      errors.push({ code: 'hash-mismatch', message: `model ${hash}: bytes hash differently` });
    }
  }
  for (const [hash, t] of Object.entries(spec.blobs ?? {})) {
    if ((await sha256(canonicalBytes(t))) !== hash) {
      errors.push({ code: 'hash-mismatch', message: `blob ${hash}: tensor hashes differently` });
    }
  }
  return errors;
}

/**
 * A job's id: SHA-256 of its idempotency key, or of its content (models,
 * blobs, tasks and policy, in a canonical order), so submitting the same job
 * twice yields the same id.
 */
export async function jobIdOf(spec: JobSpec, sha256: Sha256Hex): Promise<string> {
  if (spec.idempotencyKey !== undefined) {
    return sha256(utf8(`key:${spec.idempotencyKey}`));
  }
  const feedText = (f: FeedSpec, hashes: Map<Tensor, string>): unknown =>
    'tensor' in f ? { inline: hashes.get(f.tensor) } : f;
  const hashes = new Map<Tensor, string>();
  for (const t of [...spec.tasks, ...(spec.groups ?? [])]) {
    for (const f of Object.values(t.feeds)) {
      if ('tensor' in f && !hashes.has(f.tensor)) {
        hashes.set(f.tensor, await sha256(canonicalBytes(f.tensor)));
      }
    }
  }
  const sorted = <T>(o: Readonly<Record<string, T>>) => Object.keys(o).sort();
  const canon = {
    models: sorted(spec.models),
    blobs: sorted(spec.blobs ?? {}),
    tasks: spec.tasks.map((t) => ({
      id: t.id,
      model: t.model,
      feeds: sorted(t.feeds).map((k) => [k, feedText(t.feeds[k]!, hashes)]),
      outputs: t.outputs ?? null,
    })),
    ...(spec.groups?.length
      ? {
          groups: spec.groups.map((g) => ({
            idPrefix: g.idPrefix,
            count: g.count,
            model: g.model,
            feeds: sorted(g.feeds).map((k) => {
              const f = g.feeds[k]!;
              return [k, 'tensor' in f ? { inline: hashes.get(f.tensor) } : f];
            }),
            outputs: g.outputs ?? null,
          })),
        }
      : {}),
    policy: resolvePolicy(spec.policy),
  };
  return sha256(utf8(`content:${JSON.stringify(canon)}`));
}

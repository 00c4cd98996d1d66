/** `peergrid run` flags → options, with the usage text. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  type CompareRule,
  DEFAULT_POLICY,
  isPeerId,
  type Policy,
  parseCompareRule,
  pipelineStepsText,
  TRUST_AFTER,
} from '@peergrid/shared';
import { type ConstFlag, parseConstFlag } from '../inputs/const-feed.ts';
import type { NamedInputFlag } from '../inputs/task-feeds.ts';
import type { NodeWrtcKind } from '../transport/node-wrtc.ts';
import { MATMUL_PRESETS } from '../workloads/index.ts';
import { WORKLOADS, type WorkloadName } from './build-job.ts';
import { parseGridFlags } from './grid-flags.ts';

export interface RunOptions {
  readonly signal: string;
  readonly grid: string;
  readonly token?: string;
  /** `peergrid run job.json`: a job manifest (models, task graph, policy); excludes --model and --workload. */
  readonly manifest?: string;
  readonly model?: string;
  readonly inputs?: string;
  readonly inputName?: string;
  /** `--input NAME=PATH`, in order; exclusive with `inputs`. */
  readonly namedInputs?: readonly NamedInputFlag[];
  /** `--const`, in order: feeds every task shares. */
  readonly consts?: readonly ConstFlag[];
  readonly workload?: WorkloadName;
  readonly batch?: number;
  readonly preset?: keyof typeof MATMUL_PRESETS;
  readonly tasks?: number;
  readonly check: boolean;
  readonly policy: Partial<Policy>;
  readonly out?: string;
  readonly state: string;
  readonly webrtc?: NodeWrtcKind;
  /** `--ice-relay`: relay-only ICE through the grid's TURN server. Default off. */
  readonly iceRelay?: boolean;
  /**
   * Run the CLI's own onnxruntime-node executor (the one `--check` uses) as
   * an anchor of the job: its results are right by construction. Default true.
   */
  readonly localAnchor: boolean;
}

export const RUN_USAGE = `peergrid run --signal URL (JOB.json | PIPELINE.json | --model m.onnx (--inputs PATH | --input NAME=PATH …) | --workload NAME) [options]

Submits a job to the grid, verifies the results by replication, and prints a
summary. Job state is kept on disk: rerunning the same command resumes it.

  JOB.json                a job manifest: models by path, tasks with feeds from
                          files, constants or other tasks' outputs, fan-out and
                          fan-in, policy (see docs/MANIFEST.md). Checked whole
                          before anything is sent; policy flags given here
                          override the manifest's. JOB.yaml / JOB.yml: the
                          same in YAML
  PIPELINE.json           a pipeline (.json, .yaml, .yml): job manifests and
                          built-in steps run here between them, in order
                          ("stages", see docs/MANIFEST.md); prints the last
                          step's result on stdout; --out DIR/ keeps every
                          stage's output (DIR/STAGE.npz, step files,
                          DIR/result.json), --out result.json the result.
                          Steps:
${pipelineStepsText(' '.repeat(26))}

  --signal URL            signaling server (ws:// or wss://)                 required
  --grid NAME             grid to use                                        default: default
  --token T               join token, when the grid requires one
  --model FILE            ONNX model
  --inputs PATH           a file split into --batch rows per task, or a folder of
                          files or PNG/JPEG images, one task each. A file holds one
                          tensor (.npy, JSON) or the model's inputs by name (.npz,
                          a JSON object {"NAME": tensor, …})
  --input-name NAME       model input a file's one unnamed tensor feeds      default: its first input
  --input NAME=PATH       one model input, repeatable; every PATH a folder (files
                          matched by stem across names: same stem, same task) or
                          every PATH a .npy/.json tensor (split by --batch rows
                          together; row counts must agree)
  --const NAME=VALUE:DTYPE  a feed every task shares, stored once in the job: a
                          number or JSON array (e.g. temperature=0.7:float32,
                          mask=[1,1,0]:int64; DTYPE defaults to the model's);
                          or NAME=@FILE (.npy/.json); repeatable
  --batch N               rows per task (tensor files; MNIST workloads)      default: whole tensor / 100
  --workload NAME         bundled job: ${WORKLOADS.join(' | ')}
  --preset P              matmul task size: ${Object.keys(MATMUL_PRESETS).join(' | ')}   default: ms2
  --tasks N               matmul tasks                                       default: 100
  --check                 compare the results with a local reference run
                          (workloads and manifests)
  --replicas N            replicas per task                                  default: ${DEFAULT_POLICY.replicas}
  --quorum N              matching results needed                            default: ${DEFAULT_POLICY.quorum}
  --max-replicas N        results a disputed or uncertain task may grow to   default: ${DEFAULT_POLICY.maxReplicas}
  --target-error X        a result is final when the bound on the chance
                          that it is wrong is under X; the job completes
                          when every result is final, in (0, 1)              default: ${num(DEFAULT_POLICY.targetError)}
  --audit-rate X          share of fresh tasks given one hidden extra
                          replica on another donor, in [0, 1)                default: ${num(DEFAULT_POLICY.auditRate)}
  --anchor-share X        share of fresh tasks an anchor computes, in [0, 1) default: ${num(DEFAULT_POLICY.anchorShare)}
  --trusted-donor ID      a donor's peer id (as peergrid-worker prints it on
                          joining) whose results are right by construction,
                          e.g. your own workers: an anchor; repeatable       default: none
  --no-local-anchor       do not run this CLI's own executor (cpu) as an
                          anchor                                             default: it runs
  --compare RULE          exact | tolerance:ABS[,REL] | argmax[:AXIS]        default: exact
  --deadline-s N          a task not reported by then is re-issued           default: ${DEFAULT_POLICY.taskDeadlineMs / 1000}
  --out PATH              results.npz: an .npz archive, one TASK/OUTPUT.npy entry
                          per task and output, written as tasks verify (under
                          4 GiB and 65,535 entries); DIR/: a folder of
                          DIR/TASK/OUTPUT.npy files,
                          written as tasks verify; results.json: the results
                          and the summary as JSON, written at the end (small jobs)
  --state DIR             job state (resume), reputation, identity           default: ~/.local/state/peergrid
  --webrtc ndc|wrtc       native WebRTC implementation                       default: ndc
  --ice-relay             links through the grid's TURN server only (relay-only ICE)
  -h, --help              this help

Every task's feeds and the constants are checked against the model's
declared inputs before anything is sent: names missing or extra, dtypes, and
shapes (dynamic dims take any size; a named dim such as 'batch' must be the
same size in every input of a task); every problem is listed.

Anchors settle what replication alone cannot: by default this CLI computes a
share of the tasks itself (cpu) and the disputes an anchor settles, and a
donor that contradicts an anchor is excluded. Without one, a small grid of
new donors needs many agreeing results per task before a result is final.
--trust-streak and --trust-spot-checks are gone: a donor now runs tasks alone
only once its audited record (results confirmed by other donors) puts its
own error bound under the target (${TRUST_AFTER} confirmed results at the defaults), and
disputes go to an anchor (the local one, or --trusted-donor).`;

function num(x: number): string {
  return x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential() : String(x);
}

export type Parsed<T> =
  | { readonly kind: 'help' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'ok'; readonly options: T };

/** `--compare`: the manifest's `compare` text form, one parser (shared's `parseCompareRule`). */
export const parseCompare: (raw: string) => CompareRule | null = parseCompareRule;

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'peergrid');
}

export function parseRunArgs(argv: readonly string[]): Parsed<RunOptions> {
  const parsed = parseGridFlags(
    argv,
    {
      manifest: { type: 'string' },
      model: { type: 'string' },
      inputs: { type: 'string' },
      'input-name': { type: 'string' },
      input: { type: 'string', multiple: true },
      const: { type: 'string', multiple: true },
      batch: { type: 'string' },
      workload: { type: 'string' },
      preset: { type: 'string' },
      tasks: { type: 'string' },
      check: { type: 'boolean', default: false },
      replicas: { type: 'string' },
      quorum: { type: 'string' },
      compare: { type: 'string' },
      'deadline-s': { type: 'string' },
      out: { type: 'string' },
      state: { type: 'string' },
      'max-replicas': { type: 'string' },
      'target-error': { type: 'string' },
      'audit-rate': { type: 'string' },
      'anchor-share': { type: 'string' },
      'trusted-donor': { type: 'string', multiple: true },
      'no-local-anchor': { type: 'boolean', default: false },
    },
    true,
  );
  if (parsed.kind !== 'ok') return parsed;
  const { values, str, strs, signal, webrtc, iceRelay, positionals } = parsed;
  const err = (message: string) => ({ kind: 'error' as const, message });
  if (positionals.length > 1 || (positionals.length === 1 && str('manifest') !== undefined)) {
    return err(
      `give one job manifest, got ${[...positionals, str('manifest') ?? []].flat().join(', ')}`,
    );
  }
  const manifest = positionals[0] ?? str('manifest');
  if (manifest !== undefined) {
    const other = ['model', 'workload', 'inputs', 'input-name', 'batch', 'preset', 'tasks'].find(
      (k) => str(k) !== undefined,
    );
    const many = ['input', 'const'].find((k) => strs(k).length > 0);
    if (other ?? many) {
      return err(
        `--${other ?? many} does not go with a job manifest: the manifest names its own models and feeds`,
      );
    }
  }
  const int = (k: string, min: number): number | undefined | null => {
    const s = str(k);
    if (s === undefined) return undefined;
    const n = Number(s);
    return Number.isInteger(n) && n >= min ? n : null;
  };
  const workloadText = str('workload');
  const workload = WORKLOADS.find((w) => w === workloadText);
  if (workloadText !== undefined && !workload) {
    return err(`--workload must be one of ${WORKLOADS.join(', ')}`);
  }
  const model = str('model');
  const inputs = str('inputs');
  const named = parseNamedInputs(strs('input'));
  if (typeof named === 'string') return err(named);
  const consts = parseConsts(strs('const'), named);
  if (typeof consts === 'string') return err(consts);
  if (workload && model) return err('--workload and --model exclude each other');
  if (workload && (named.length > 0 || consts.length > 0)) {
    return err('--input and --const go with --model, not --workload');
  }
  if (!manifest && !workload && (!model || (!inputs && named.length === 0))) {
    return err(
      'give a job manifest (JOB.json), --model with --inputs PATH or --input NAME=PATH, or --workload',
    );
  }
  if (inputs && named.length > 0) return err('--inputs and --input exclude each other');
  if (named.length > 0 && str('input-name') !== undefined) {
    return err('--input-name goes with --inputs; --input names each input itself');
  }
  const presetText = str('preset');
  const preset = Object.keys(MATMUL_PRESETS).find((p) => p === presetText) as
    | keyof typeof MATMUL_PRESETS
    | undefined;
  if (presetText !== undefined && !preset) return err('unknown --preset');
  const nums = {
    batch: int('batch', 1),
    tasks: int('tasks', 1),
    replicas: int('replicas', 1),
    quorum: int('quorum', 1),
    'deadline-s': int('deadline-s', 1),
    'max-replicas': int('max-replicas', 1),
  };
  for (const [k, v] of Object.entries(nums)) {
    if (v === null) return err(`--${k} must be an integer >= 1, got '${str(k)}'`);
  }
  /** A share in [0, 1) or, with `open`, (0, 1). */
  const share = (k: string, open: boolean): number | undefined | string => {
    const s = str(k);
    if (s === undefined) return undefined;
    const x = s.trim() === '' ? Number.NaN : Number(s);
    const ok = open ? x > 0 && x < 1 : x >= 0 && x < 1;
    return ok ? x : `--${k} must be a number in ${open ? '(0, 1)' : '[0, 1)'}, got '${s}'`;
  };
  const rates = {
    targetError: share('target-error', true),
    auditRate: share('audit-rate', false),
    anchorShare: share('anchor-share', false),
  };
  for (const v of Object.values(rates)) if (typeof v === 'string') return err(v);
  const trusted = strs('trusted-donor');
  const notId = trusted.find((id) => !isPeerId(id));
  if (notId !== undefined) {
    return err(
      `--trusted-donor must be a peer id (32 characters a-z, 2-7, as peergrid-worker prints on joining), got '${notId}'`,
    );
  }
  const compareText = str('compare');
  const compare = compareText === undefined ? undefined : parseCompare(compareText);
  if (compare === null) return err('--compare must be exact, tolerance:ABS[,REL] or argmax[:AXIS]');
  if (webrtc === null) return err('--webrtc must be ndc or wrtc');
  const replicas = nums.replicas ?? undefined;
  const quorum = nums.quorum ?? (replicas !== undefined ? Math.min(2, replicas) : undefined);
  if ((quorum ?? DEFAULT_POLICY.quorum) > (replicas ?? DEFAULT_POLICY.replicas)) {
    return err('--quorum must not exceed --replicas');
  }
  // More replicas than the default cap lift the cap with them.
  const maxReplicas =
    nums['max-replicas'] ??
    (replicas !== undefined && replicas > DEFAULT_POLICY.maxReplicas ? replicas : undefined);
  if (maxReplicas !== undefined && maxReplicas < (replicas ?? DEFAULT_POLICY.replicas)) {
    return err(`--max-replicas must be >= --replicas (${replicas ?? DEFAULT_POLICY.replicas})`);
  }
  const policy: Partial<Policy> = {
    ...(replicas !== undefined ? { replicas } : {}),
    ...(quorum !== undefined ? { quorum } : {}),
    ...(maxReplicas !== undefined ? { maxReplicas } : {}),
    ...(compare ? { compare } : {}),
    ...(nums['deadline-s'] ? { taskDeadlineMs: nums['deadline-s'] * 1000 } : {}),
    ...(typeof rates.targetError === 'number' ? { targetError: rates.targetError } : {}),
    ...(typeof rates.auditRate === 'number' ? { auditRate: rates.auditRate } : {}),
    ...(typeof rates.anchorShare === 'number' ? { anchorShare: rates.anchorShare } : {}),
    ...(trusted.length > 0 ? { trustedDonors: [...new Set(trusted)].sort() } : {}),
  };
  const opt = <K extends string, V>(k: K, v: V | undefined | null) =>
    (v === undefined || v === null ? {} : { [k]: v }) as Partial<Record<K, V>>;
  return {
    kind: 'ok',
    options: {
      signal,
      grid: str('grid') ?? 'default',
      ...opt('token', str('token')),
      ...opt('manifest', manifest),
      ...opt('model', model),
      ...opt('inputs', inputs),
      ...opt('inputName', str('input-name')),
      ...(named.length > 0 ? { namedInputs: named } : {}),
      ...(consts.length > 0 ? { consts } : {}),
      ...opt('workload', workload),
      ...opt('batch', nums.batch),
      ...opt('preset', preset),
      ...opt('tasks', nums.tasks),
      check: values.check === true,
      policy,
      ...opt('out', str('out')),
      state: str('state') ?? defaultStateDir(),
      ...opt('webrtc', webrtc),
      ...(iceRelay ? { iceRelay } : {}),
      localAnchor: values['no-local-anchor'] !== true,
    },
  };
}

/** `--input NAME=PATH` flags; a string says what is wrong. */
function parseNamedInputs(raw: readonly string[]): NamedInputFlag[] | string {
  const out: NamedInputFlag[] = [];
  for (const r of raw) {
    const eq = r.indexOf('=');
    const name = eq > 0 ? r.slice(0, eq) : '';
    const path = eq > 0 ? r.slice(eq + 1) : '';
    if (!name || !path) return `--input must be NAME=PATH, got '${r}'`;
    if (out.some((f) => f.name === name)) return `--input ${name} given twice`;
    out.push({ name, path });
  }
  return out;
}

/** `--const` flags; a string says what is wrong. */
function parseConsts(
  raw: readonly string[],
  named: readonly NamedInputFlag[],
): ConstFlag[] | string {
  const out: ConstFlag[] = [];
  for (const r of raw) {
    const c = parseConstFlag(r);
    if (typeof c === 'string') return c;
    if (out.some((f) => f.name === c.name)) return `--const ${c.name} given twice`;
    if (named.some((f) => f.name === c.name)) return `${c.name} is given by --input and --const`;
    out.push(c);
  }
  return out;
}

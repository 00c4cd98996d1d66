/** `peergrid run` flags → options, with the usage text. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  type CompareRule,
  type Policy,
  TRUST_AFTER_SPOT_CHECKS,
  TRUST_AFTER_STREAK,
} from '@peergrid/shared';
import type { NodeWrtcKind } from '../transport/node-wrtc.ts';
import { MATMUL_PRESETS } from '../workloads/index.ts';
import { WORKLOADS, type WorkloadName } from './build-job.ts';
import { parseGridFlags } from './grid-flags.ts';

export interface RunOptions {
  readonly signal: string;
  readonly grid: string;
  readonly token?: string;
  readonly model?: string;
  readonly inputs?: string;
  readonly inputName?: string;
  readonly workload?: WorkloadName;
  readonly batch?: number;
  readonly preset?: keyof typeof MATMUL_PRESETS;
  readonly tasks?: number;
  readonly check: boolean;
  readonly policy: Partial<Policy>;
  readonly out?: string;
  readonly state: string;
  readonly webrtc?: NodeWrtcKind;
  readonly trustStreak: number;
  readonly trustSpotChecks: number;
}

export const RUN_USAGE = `peergrid run --signal URL (--model m.onnx --inputs PATH | --workload NAME) [options]

Submits a job to the grid, verifies the results by replication, and prints a
summary. Job state is kept on disk: rerunning the same command resumes it.

  --signal URL            signaling server (ws:// or wss://)                 required
  --grid NAME             grid to use                                        default: default
  --token T               join token, when the grid requires one
  --model FILE            ONNX model
  --inputs PATH           .npy or .json tensor (split into --batch rows per task),
                          or a folder of .npy/.json files or PNG/JPEG images (one task each)
  --input-name NAME       model input to feed                                default: its first input
  --batch N               rows per task (tensor file; MNIST workloads)       default: whole tensor / 100
  --workload NAME         bundled job: ${WORKLOADS.join(' | ')}
  --preset P              matmul task size: ${Object.keys(MATMUL_PRESETS).join(' | ')}   default: ms2
  --tasks N               matmul tasks                                       default: 100
  --check                 compare the results with a local reference run (workloads)
  --replicas N            replicas per task                                  default: 2
  --quorum N              matching results needed                            default: 2
  --compare RULE          exact | tolerance:ABS[,REL] | argmax[:AXIS]        default: exact
  --deadline-s N          a task not reported by then is re-issued           default: 60
  --out FILE              write the results as JSON
  --state DIR             job state (resume), reputation, identity           default: ~/.local/state/peergrid
  --trust-streak N        agreeing results before a donor is trusted         default: ${TRUST_AFTER_STREAK}
  --trust-spot-checks N   known-answer checks before a donor is trusted      default: ${TRUST_AFTER_SPOT_CHECKS}
  --webrtc ndc|wrtc       native WebRTC implementation                       default: ndc
  -h, --help              this help`;

export type Parsed<T> =
  | { readonly kind: 'help' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'ok'; readonly options: T };

export function parseCompare(raw: string): CompareRule | null {
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

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'peergrid');
}

export function parseRunArgs(argv: readonly string[]): Parsed<RunOptions> {
  const parsed = parseGridFlags(argv, {
    model: { type: 'string' },
    inputs: { type: 'string' },
    'input-name': { type: 'string' },
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
    'trust-streak': { type: 'string', default: String(TRUST_AFTER_STREAK) },
    'trust-spot-checks': { type: 'string', default: String(TRUST_AFTER_SPOT_CHECKS) },
  });
  if (parsed.kind !== 'ok') return parsed;
  const { values, str, signal, webrtc } = parsed;
  const err = (message: string) => ({ kind: 'error' as const, message });
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
  if (!workload && (!model || !inputs)) return err('give --model and --inputs, or --workload');
  if (workload && model) return err('--workload and --model exclude each other');
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
    deadline: int('deadline-s', 1),
    streak: int('trust-streak', 0),
    spots: int('trust-spot-checks', 0),
  };
  for (const [k, v] of Object.entries(nums)) if (v === null) return err(`bad --${k} value`);
  const compareText = str('compare');
  const compare = compareText === undefined ? undefined : parseCompare(compareText);
  if (compare === null) return err('--compare must be exact, tolerance:ABS[,REL] or argmax[:AXIS]');
  if (webrtc === null) return err('--webrtc must be ndc or wrtc');
  const replicas = nums.replicas ?? undefined;
  const quorum = nums.quorum ?? (replicas !== undefined ? Math.min(2, replicas) : undefined);
  const policy: Partial<Policy> = {
    ...(replicas !== undefined ? { replicas, maxReplicas: Math.max(5, replicas) } : {}),
    ...(quorum !== undefined ? { quorum } : {}),
    ...(compare ? { compare } : {}),
    ...(nums.deadline ? { taskDeadlineMs: nums.deadline * 1000 } : {}),
  };
  const opt = <K extends string, V>(k: K, v: V | undefined | null) =>
    (v === undefined || v === null ? {} : { [k]: v }) as Partial<Record<K, V>>;
  return {
    kind: 'ok',
    options: {
      signal,
      grid: str('grid') ?? 'default',
      ...opt('token', str('token')),
      ...opt('model', model),
      ...opt('inputs', inputs),
      ...opt('inputName', str('input-name')),
      ...opt('workload', workload),
      ...opt('batch', nums.batch),
      ...opt('preset', preset),
      ...opt('tasks', nums.tasks),
      check: values.check === true,
      policy,
      ...opt('out', str('out')),
      state: str('state') ?? defaultStateDir(),
      ...opt('webrtc', webrtc),
      trustStreak: nums.streak ?? TRUST_AFTER_STREAK,
      trustSpotChecks: nums.spots ?? TRUST_AFTER_SPOT_CHECKS,
    },
  };
}

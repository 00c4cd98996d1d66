import type { JobEvent, JobProgress, Policy, ReputationRecord, TaskState } from '@peergrid/shared';
import type {
  DonorRow,
  JobDetail,
  JobKind,
  JobSummary,
  JobEvent as ViewEvent,
} from '../state/types.ts';

/** Everything a job view is computed from. */
export interface JobViewInput {
  readonly jobId: string;
  readonly name: string;
  readonly kind: JobKind;
  readonly createdAt: number;
  readonly policy: Policy;
  /** Task ids in the spec's order. */
  readonly taskIds: readonly string[];
  readonly taskStates: ReadonlyMap<string, TaskState>;
  readonly progress: JobProgress;
  /** The job's whole event log, in order. */
  readonly events: readonly JobEvent[];
  readonly reputation: (peer: string) => ReputationRecord;
}

/** Events kept for the log view (the newest). Default 300. */
export const EVENT_LOG_LIMIT = 300;

/**
 * Counts come from the task states, which follow the events the runner tells
 * once they are stored: a task counted verified stays verified after a reload.
 */
export function summarize(i: JobViewInput): JobSummary {
  let verified = 0;
  let failed = 0;
  for (const st of i.taskStates.values()) {
    if (st === 'verified') verified++;
    else if (st === 'failed') failed++;
  }
  return {
    id: i.jobId,
    name: i.name,
    kind: i.kind,
    state: i.progress.state,
    createdAt: i.createdAt,
    total: i.progress.total,
    verified,
    failed,
  };
}

/** Reputation as one number for people: agreement rate with a prior of one each way. */
export function reputationScore(r: ReputationRecord): number {
  if (r.excluded) return 0;
  return (r.agreements + 1) / (r.agreements + r.disagreements + 2);
}

export function buildJobDetail(i: JobViewInput): JobDetail {
  const replicas = new Map<string, number>();
  const perDonor = new Map<string, { results: number; agreed: number; disagreed: number }>();
  const donorRow = (id: string) => {
    let d = perDonor.get(id);
    if (!d) {
      d = { results: 0, agreed: 0, disagreed: 0 };
      perDonor.set(id, d);
    }
    return d;
  };
  const throughput: [number, number][] = [];
  let verified = 0;
  let disagreements = 0;
  for (const e of i.events) {
    if (e.type === 'lease-issued' && e.taskId)
      replicas.set(e.taskId, (replicas.get(e.taskId) ?? 0) + 1);
    if (e.type === 'lease-reported' && e.donor) donorRow(e.donor).results++;
    if (e.type === 'task-disputed') disagreements++;
    if (e.type === 'job-started' && throughput.length === 0) throughput.push([e.at, 0]);
    if (e.type === 'task-verified') {
      verified++;
      if (throughput.length === 0) throughput.push([e.at, 0]);
      throughput.push([e.at, verified]);
    }
    if (e.type === 'task-reopened') {
      verified = Math.max(0, verified - 1);
      throughput.push([e.at, verified]);
    }
  }
  const progressDonors = new Map(i.progress.donors.map((d) => [d.id, d]));
  for (const id of progressDonors.keys()) donorRow(id);
  const donors: DonorRow[] = [...perDonor.entries()]
    .map(([id, d]) => {
      const rep = i.reputation(id);
      const p = progressDonors.get(id);
      return {
        id,
        results: Math.max(d.results, p?.reported ?? 0),
        agreed: rep.agreements,
        disagreed: rep.disagreements,
        reputation: reputationScore(rep),
        computeMs: p?.creditMs ?? 0,
        excluded: rep.excluded || (p?.excluded ?? false),
      };
    })
    .filter((d) => d.results > 0 || d.excluded)
    .sort((a, b) => b.results - a.results || a.id.localeCompare(b.id));
  const failedReasons = i.progress.failed.map((f) => `${f.taskId}: ${f.reason}`);
  const summary = summarize(i);
  return {
    ...summary,
    policy: i.policy,
    tasks: i.taskIds.map((id) => ({
      id,
      state: i.taskStates.get(id) ?? 'blocked',
      replicas: replicas.get(id) ?? 0,
    })),
    throughput,
    donors,
    agreements: summary.verified,
    disagreements: Math.max(disagreements, i.progress.disputes),
    excluded: donors.filter((d) => d.excluded).length,
    events: i.events.slice(-EVENT_LOG_LIMIT).map(describeEvent),
    error: i.progress.state === 'failed' ? (failedReasons[0] ?? 'the job failed') : null,
  };
}

const short = (id: string | undefined) =>
  id ? (id.length > 12 ? `${id.slice(0, 6)}…${id.slice(-4)}` : id) : '?';

/** One log line for people. */
export function describeEvent(e: JobEvent): ViewEvent {
  const task = e.taskId ?? '';
  const by = short(e.donor);
  const why = e.message ? ` (${e.message})` : '';
  const line = (level: ViewEvent['level'], text: string): ViewEvent => ({ at: e.at, level, text });
  switch (e.type) {
    case 'job-started':
      return line('info', 'Job started');
    case 'job-completed':
      return line('info', 'Job completed: every task verified');
    case 'job-failed':
      return line('error', `Job failed${why}`);
    case 'job-cancelled':
      return line('warn', 'Job cancelled');
    case 'job-reopened':
      return line('warn', `Job re-opened${why}`);
    case 'task-ready':
      return line('info', `${task} ready`);
    case 'task-verified':
      return line('info', `${task} verified${why}`);
    case 'task-disputed':
      return line('warn', `${task}: donors disagree, adding a replica${why}`);
    case 'task-reopened':
      return line('warn', `${task} re-opened${why}`);
    case 'task-failed':
      return line('error', `${task} failed${why}`);
    case 'lease-issued':
      return line('info', `${task} → ${by}`);
    case 'lease-acked':
      return line('info', `${by} accepted ${task}`);
    case 'lease-reported':
      return line('info', `${by} returned ${task}`);
    case 'lease-expired':
      return line('warn', `${by} lost ${task}${why}`);
    case 'lease-errored':
      return line('warn', `${by} could not run ${task}${why}`);
    case 'lease-cancelled':
      return line('info', `${task} lease with ${by} cancelled${why}`);
    case 'spot-passed':
      return line('info', `${by} passed a known-answer check on ${task}`);
    case 'spot-failed':
      return line('error', `${by} failed a known-answer check on ${task}`);
    case 'donor-excluded':
      return line('error', `${by} excluded${why}`);
    case 'donor-reinstated':
      return line('info', `${by} reinstated${why}`);
    default:
      return line('info', `${e.type}${task ? ` ${task}` : ''}${why}`);
  }
}

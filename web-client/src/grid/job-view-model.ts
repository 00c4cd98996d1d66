import type {
  JobEvent,
  JobEventType,
  JobProgress,
  PeerId,
  Policy,
  ReputationRecord,
  TaskState,
} from '@peergrid/shared';
import { formatBound, shortId } from '../lib/format.ts';
import type {
  DonorRow,
  ExcludedRow,
  JobDetail,
  JobKind,
  JobSummary,
  TaskCellState,
  JobEvent as ViewEvent,
} from '../state/types.ts';
import { foldTrust } from './job-trust.ts';

/** Everything a job view is computed from. */
export interface JobViewInput {
  readonly jobId: string;
  readonly name: string;
  readonly kind: JobKind;
  readonly createdAt: number;
  readonly policy: Policy;
  /**
   * The task grid's cells, in the job's order: every task when `allTasks`,
   * else a bounded window of them (a job host holds no per-task state for a
   * whole large job).
   */
  readonly cells: readonly TaskCellState[];
  readonly allTasks: boolean;
  /** Tasks per state over the whole job. */
  readonly counts: Readonly<Record<TaskState, number>>;
  readonly progress: JobProgress;
  /** The job's event log, in order: the whole of it, or its newest events (the store keeps a bounded log). */
  readonly events: readonly JobEvent[];
  /**
   * Verified tasks over time, sampled [epoch ms, count]: the throughput
   * when `events` no longer starts at the job's first event. Default none.
   */
  readonly samples?: readonly (readonly [number, number])[];
  readonly reputation: (peer: string) => ReputationRecord;
  /** Donors the page runs as anchors of this job (its own tab, `policy.trustedDonors`). */
  readonly isAnchor: (peer: PeerId) => boolean;
}

/** Events kept for the log view (the newest). Default 300. */
export const EVENT_LOG_LIMIT = 300;

/**
 * Events the log view leaves out: a `lease-verdict` follows every reported
 * lease (the `lease-reported` line already says it came back, and the task's
 * `task-verified` says who backed it), so it would double the log.
 */
export const LOG_LEFT_OUT: ReadonlySet<JobEventType> = new Set(['lease-verdict']);

/**
 * Counts come from `counts`: for a whole job the shown task states, which
 * follow the events the runner tells once they are stored (a task counted
 * verified stays verified after a reload); for a large job the engine's counters.
 */
export function summarize(i: JobViewInput): JobSummary {
  const { verified, failed } = i.counts;
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
  const leases = new Map<string, number>();
  const reported = new Map<string, number>();
  const throughput: [number, number][] = [];
  /** Each task's state as the events move it: a verified task leaving `verified` counts down. */
  const states = new Map<string, TaskState>();
  let verified = 0;
  /** Tasks where results disagreed: a dispute, a failed audit, or a rejected lease (an anchor settles some at once). */
  const disagreed = new Set<string>();
  // The log starts at the job's first event: the throughput follows every verification in it.
  const wholeLog = i.events.length === 0 || i.events[0]?.seq === 1 || !i.samples;
  for (const e of i.events) {
    if (e.type === 'lease-issued' && e.taskId)
      leases.set(e.taskId, (leases.get(e.taskId) ?? 0) + 1);
    if (e.type === 'lease-reported' && e.donor)
      reported.set(e.donor, (reported.get(e.donor) ?? 0) + 1);
    const rejected = e.type === 'lease-verdict' && e.verdict === 'rejected';
    if ((rejected || e.type === 'task-disputed' || e.type === 'audit-failed') && e.taskId)
      disagreed.add(e.taskId);
    if (e.type === 'job-started' && throughput.length === 0) throughput.push([e.at, 0]);
    if (e.taskId === undefined || e.state === undefined || !wholeLog) continue;
    const was = states.get(e.taskId);
    states.set(e.taskId, e.state);
    if ((was === 'verified') === (e.state === 'verified')) continue;
    verified += e.state === 'verified' ? 1 : -1;
    if (throughput.length === 0) throughput.push([e.at, 0]);
    throughput.push([e.at, verified]);
  }
  if (!wholeLog)
    throughput.splice(
      0,
      throughput.length,
      ...(i.samples ?? []).map(([t, n]) => [t, n] as [number, number]),
    );
  const trust = foldTrust(i.events, {
    onOffer: i.progress.anchors.donors,
    isAnchor: i.isAnchor,
  });
  const anchorIds = new Set(trust.anchors.map((a) => a.id));
  const progressDonors = new Map(i.progress.donors.map((d) => [d.id, d]));
  const ids = new Set([...reported.keys(), ...progressDonors.keys()]);
  const donors: DonorRow[] = [...ids]
    .map((id) => {
      const rep = i.reputation(id);
      const p = progressDonors.get(id);
      return {
        id,
        results: Math.max(reported.get(id) ?? 0, p?.reported ?? 0),
        agreed: rep.agreements,
        disagreed: rep.disagreements,
        audited: rep.audited,
        reputation: reputationScore(rep),
        computeMs: p?.creditMs ?? 0,
        anchor: anchorIds.has(id) || (p?.anchor ?? false),
        excluded: rep.excluded || (p?.excluded ?? false),
      };
    })
    .filter((d) => d.results > 0 || d.excluded)
    .sort((a, b) => b.results - a.results || a.id.localeCompare(b.id));
  // Donors found excluded (by another job of this page, before this one) have no event here.
  const excludedDonors: ExcludedRow[] = [...trust.excluded];
  for (const d of donors) {
    if (!d.excluded || excludedDonors.some((x) => x.donor === d.id)) continue;
    const why = i.reputation(d.id).excludedReason;
    excludedDonors.push({ donor: d.id, reason: why || 'excluded by another job of this page' });
  }
  const failedReasons = i.progress.failed.map((f) => `${f.taskId}: ${f.reason}`);
  const summary = summarize(i);
  return {
    ...summary,
    policy: i.policy,
    tasks: i.cells.map((c) => ({ id: c.id, state: c.state, leases: leases.get(c.id) ?? 0 })),
    allTasks: i.allTasks,
    taskCounts: i.counts,
    throughput,
    donors,
    agreements: summary.verified,
    disagreements: Math.max(disagreed.size, i.progress.disputes),
    excluded: excludedDonors.length,
    targetError: i.progress.targetError,
    achievedError: summary.verified > 0 ? i.progress.achievedError : null,
    final: i.progress.final,
    audits: trust.audits,
    anchors: trust.anchors,
    excludedDonors,
    events: i.events
      .filter((e) => !LOG_LEFT_OUT.has(e.type))
      .slice(-EVENT_LOG_LIMIT)
      .map(describeEvent),
    error: i.progress.state === 'failed' ? (failedReasons[0] ?? 'the job failed') : null,
  };
}

/** One log line for people. */
export function describeEvent(e: JobEvent): ViewEvent {
  const task = e.taskId ?? '';
  const by = e.donor === undefined ? '?' : shortId(e.donor);
  const why = e.message ? ` (${e.message})` : '';
  const bound = e.bound === undefined ? '' : `, error bound ${formatBound(e.bound)}`;
  const line = (level: ViewEvent['level'], text: string): ViewEvent => ({ at: e.at, level, text });
  switch (e.type) {
    case 'job-started':
      return line('info', 'Job started');
    case 'job-completed':
      return line('info', 'Job completed: every task verified, every result final');
    case 'job-failed':
      return line('error', `Job failed${why}`);
    case 'job-cancelled':
      return line('warn', 'Job cancelled');
    case 'job-reopened':
      return line('warn', `Job re-opened${why}`);
    case 'task-ready':
      return line('info', `${task} ready`);
    case 'task-running':
      return line('info', `${task} running`);
    case 'task-blocked':
      return line('warn', `${task} waits for its inputs again${why}`);
    case 'task-verified':
      return line('info', `${task} verified${why}`);
    case 'task-final':
      return line('info', `${task} final${bound}`);
    case 'task-disputed':
      return line('warn', `${task}: donors disagree, adding a replica${why}`);
    case 'task-reopened':
      return line('warn', `${task} re-opened${why}`);
    case 'task-failed':
      return line('error', `${task} failed${why}`);
    case 'lease-issued':
      return line('info', `${task} → ${by}${e.audit ? ' · audit' : ''}`);
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
    case 'lease-verdict':
      return e.verdict === 'accepted'
        ? line('info', `${by}'s result for ${task} accepted`)
        : line('warn', `${by}'s result for ${task} rejected`);
    case 'audit-passed':
      return line('info', `audit of ${task} by ${by} agreed with the other results`);
    case 'audit-failed':
      return line('warn', `audit of ${task} by ${by} found a disagreement`);
    case 'donor-excluded':
      return line('error', `${by} excluded${why}`);
    case 'donor-reinstated':
      return line('info', `${by} reinstated${why}`);
  }
}

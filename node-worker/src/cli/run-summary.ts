/**
 * What `peergrid run` reports at the end: the summary (the `summary {json}`
 * line and the `--out` header) built from the job's final progress, its
 * accepted results and a tally of this run's events, and its human text.
 */
import type { JobEvent, JobProgress, PeerId } from '@peergrid/shared';

export interface RunSummary {
  readonly jobId: string;
  readonly state: string;
  readonly tasks: number;
  readonly verified: number;
  readonly failed: number;
  /** Tasks already verified when this run started (resume). */
  readonly resumedVerified: number;
  /** Results received in this run (replicas, audits and anchors' results included). */
  readonly resultsReceived: number;
  /** Donors that reported a result in this run (anchors included). */
  readonly donors: number;
  /** Backers of the accepted results. */
  readonly agreements: number;
  /** Tasks whose results disagreed in this run (a dispute, a failed audit, a rejected result). */
  readonly disagreements: number;
  /** Results rejected in this run: they disagreed with the accepted result. */
  readonly rejected: number;
  /** `policy.targetError`. */
  readonly targetError: number;
  /** Highest error bound among the accepted results (0 before any). */
  readonly achievedError: number;
  /** Accepted results whose bound is under the target. */
  readonly final: number;
  /** Hidden extra replicas issued in this run, and how they compared. */
  readonly audits: { readonly issued: number; readonly passed: number; readonly failed: number };
  /** Anchors on offer (`local`: this CLI's own executor) and the results each returned in this run. */
  readonly anchors: readonly {
    readonly id: PeerId;
    readonly local: boolean;
    readonly results: number;
  }[];
  /** Donors excluded in this run, and why. */
  readonly excluded: readonly { readonly donor: PeerId; readonly reason: string }[];
  readonly seconds: number;
  readonly check?: { readonly matched: number; readonly total: number };
}

/** Folds a run's engine events into what the progress counters do not say. */
export interface RunTally {
  onEvent(e: JobEvent): void;
  /** Tasks with a dispute, a failed audit or a rejected result. */
  disagreements(): number;
  /** `rejected` lease verdicts. */
  rejected(): number;
}

export function createRunTally(): RunTally {
  const disagreed = new Set<string>();
  let rejected = 0;
  return {
    onEvent(e) {
      const rejection = e.type === 'lease-verdict' && e.verdict === 'rejected';
      if (rejection) rejected++;
      // A result an anchor contradicts is rejected at once, without a dispute event.
      const disagreement = rejection || e.type === 'task-disputed' || e.type === 'audit-failed';
      if (disagreement && e.taskId !== undefined) disagreed.add(e.taskId);
    },
    disagreements: () => disagreed.size,
    rejected: () => rejected,
  };
}

export interface SummaryInput {
  readonly progress: JobProgress;
  /** Backers summed over the accepted results (from the store: retired tasks' too). */
  readonly agreements: number;
  readonly tally: RunTally;
  readonly resumedVerified: number;
  /** The local anchor's donor id (the CLI's peer id), when it ran. */
  readonly localAnchor?: PeerId;
  readonly seconds: number;
  readonly check?: RunSummary['check'];
}

export function summarize(i: SummaryInput): RunSummary {
  const p = i.progress;
  return {
    jobId: p.jobId,
    state: p.state,
    tasks: p.total,
    verified: p.tasks.verified,
    failed: p.tasks.failed,
    resumedVerified: i.resumedVerified,
    resultsReceived: p.resultsReceived,
    donors: p.donors.filter((d) => d.reported > 0).length,
    agreements: i.agreements,
    disagreements: i.tally.disagreements(),
    rejected: i.tally.rejected(),
    targetError: p.targetError,
    achievedError: p.achievedError,
    final: p.final,
    audits: { ...p.audits },
    anchors: p.anchors.donors.map((id) => ({
      id,
      local: id === i.localAnchor,
      results: p.donors.find((d) => d.id === id)?.reported ?? 0,
    })),
    excluded: p.excluded.map((x) => ({ donor: x.donor, reason: x.reason })),
    seconds: i.seconds,
    ...(i.check ? { check: i.check } : {}),
  };
}

const sci = (x: number) => (x === 0 ? '0' : x.toExponential(1));

/** The closing lines on stderr. */
export function summaryText(s: RunSummary, failed: JobProgress['failed']): string {
  const anchors = s.anchors.length
    ? s.anchors.map((a) => `${a.id}${a.local ? ' (local)' : ''} ${a.results} results`).join(', ')
    : 'none';
  return [
    `${s.state}: ${s.verified}/${s.tasks} tasks verified` +
      (s.failed ? `, ${s.failed} failed` : '') +
      (s.resumedVerified ? ` (${s.resumedVerified} before this run)` : ''),
    `error bound ${sci(s.achievedError)} (target ${sci(s.targetError)}) · ${s.final}/${s.tasks} results final`,
    `donors ${s.donors} · agreements ${s.agreements} · disagreements ${s.disagreements} · rejected results ${s.rejected}`,
    `audits ${s.audits.issued} issued, ${s.audits.passed} passed, ${s.audits.failed} failed · anchors: ${anchors}`,
    `excluded ${s.excluded.length}`,
    ...s.excluded.map((x) => `  ${x.donor}: ${x.reason}`),
    `results received ${s.resultsReceived} · ${s.seconds} s`,
    ...failed.map((f) => `  failed ${f.taskId}: ${f.reason}`),
    ...(s.check
      ? [`check: ${s.check.matched}/${s.check.total} tasks equal the local reference`]
      : []),
  ].join('\n');
}

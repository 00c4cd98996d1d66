import type { Backend, Capabilities, JobState, Policy, TaskState } from '@peergrid/shared';

/** Connection to the signaling server. */
export type SignalStatus = 'connecting' | 'online' | 'reconnecting' | 'offline' | 'error';

/**
 * A lease this tab's workers run right now. Donors are not told which task a
 * lease is (solo, replica and audit look alike), so it is shown by its model
 * and lease id.
 */
export interface CurrentTask {
  /** The submitter's lease id (opaque); '' when the assign was not seen. */
  readonly leaseId: string;
  readonly modelHash: string;
  readonly jobId: string;
  readonly from: string;
  readonly startedAt: number;
}

/** Everything the Donate view shows. */
export interface DonorView {
  readonly paused: boolean;
  readonly workers: number;
  readonly maxWorkers: number;
  readonly gpuEnabled: boolean;
  readonly gpuAdapter: string | null;
  readonly backends: readonly Backend[];
  readonly threads: number;
  readonly isolated: boolean;
  readonly tasksDone: number;
  readonly tasksFailed: number;
  /** Compute time of results submitters verified (their `verdict` messages, own jobs included), ms. */
  readonly verifiedMs: number;
  /** Results submitters rejected. */
  readonly rejected: number;
  readonly computeMs: number;
  readonly current: readonly CurrentTask[];
  /** Share of each worker's time spent running, 0.01–1 (the CPU share slider). */
  readonly cpuShare: number;
  /** Busy ÷ (wall × workers) over the last 30 s, as the donor agent counts it. */
  readonly measuredShare: number;
  /** Why the tab is paused (the button, on battery, computer in use); null while donating. */
  readonly pauseReason: string | null;
  /** The Battery Status API exists here: the "only while charging" control is shown. */
  readonly batterySupported: boolean;
  readonly onlyWhileCharging: boolean;
  readonly pauseWhileInUse: boolean;
  /** What tells use of the computer: Idle Detection (granted), or this tab's own input. */
  readonly inUseSource: 'idle-detection' | 'this-tab';
}

/** A peer of the grid as the Mesh view draws it. */
export interface MeshPeer {
  readonly id: string;
  readonly self: boolean;
  readonly capabilities: Capabilities | null;
  /** A data channel to it is open. */
  readonly connected: boolean;
  /** Bytes through the channel, both ways (when known). */
  readonly bytes?: number;
}

/** This tab's link set-up counters (the pool's `stats()`). */
export interface LinkCounters {
  /** Offers, answers or channels refused because they were not bound to the peer's key, by code. */
  readonly refused: Readonly<Record<string, number>>;
  /** Links that opened relay-only (TURN). */
  readonly relayedLinks: number;
  /** Direct attempts that timed out and were retried relay-only. */
  readonly relayRetries: number;
}

export interface GridView {
  readonly grid: string;
  readonly signalUrl: string;
  readonly signal: SignalStatus;
  readonly signalError: string | null;
  readonly selfId: string | null;
  readonly peers: readonly MeshPeer[];
  /** Absent until the tab has joined. */
  readonly links?: LinkCounters;
}

/** What kind of results a job has, to show them to people. */
export type JobKind = 'mnist' | 'ocr' | 'custom' | 'manifest';

/** A task and its state, as a job host hands the task grid's cells to the view model. */
export interface TaskCellState {
  readonly id: string;
  readonly state: TaskState;
}

export interface TaskCell extends TaskCellState {
  /** Leases handed out in the events kept (replicas, audits and re-issues). */
  readonly leases: number;
}

export interface DonorRow {
  readonly id: string;
  readonly results: number;
  readonly agreed: number;
  readonly disagreed: number;
  /** Its results confirmed by independent backers since it last lost a vote (reputation book). */
  readonly audited: number;
  /** 0..1, from the reputation book. */
  readonly reputation: number;
  readonly computeMs: number;
  /** Its results are right by construction (this tab's own executor, a donor trusted by key). */
  readonly anchor: boolean;
  readonly excluded: boolean;
}

/** An anchor of a job and the results it returned to it. */
export interface AnchorRow {
  readonly id: string;
  readonly results: number;
}

/** A donor a job excluded (or found excluded), and why. */
export interface ExcludedRow {
  readonly donor: string;
  readonly reason: string;
}

/** Hidden extra leases of fresh tasks, and how their results compared. */
export interface AuditFigures {
  readonly issued: number;
  readonly passed: number;
  readonly failed: number;
}

export interface JobEvent {
  readonly at: number;
  readonly level: 'info' | 'warn' | 'error';
  readonly text: string;
}

/** One job as the Jobs view shows it. */
export interface JobSummary {
  readonly id: string;
  readonly name: string;
  readonly kind: JobKind;
  readonly state: JobState;
  readonly createdAt: number;
  readonly total: number;
  readonly verified: number;
  readonly failed: number;
}

export interface JobDetail extends JobSummary {
  readonly policy: Policy;
  /**
   * The task grid's cells: every task in the job's order when `allTasks`,
   * else a bounded window (the tasks that changed last, in flight among
   * them), in the job's order.
   */
  readonly tasks: readonly TaskCell[];
  /** `tasks` lists every task of the job (it has at most `TASK_WINDOW`). */
  readonly allTasks: boolean;
  /** Tasks per state over the whole job. */
  readonly taskCounts: Readonly<Record<TaskState, number>>;
  /** Verified tasks over time, cumulative: [epoch ms, count]. */
  readonly throughput: readonly (readonly [number, number])[];
  readonly donors: readonly DonorRow[];
  readonly agreements: number;
  readonly disagreements: number;
  /** Donors excluded: `excludedDonors.length`. */
  readonly excluded: number;
  /** `policy.targetError`: a result is final when its error bound is under it. */
  readonly targetError: number;
  /** Highest error bound among accepted results; null before any is accepted. */
  readonly achievedError: number | null;
  /** Accepted results whose bound is under the target (of `total`). */
  readonly final: number;
  readonly audits: AuditFigures;
  /** Anchors on offer to the job or that returned results to it. */
  readonly anchors: readonly AnchorRow[];
  readonly excludedDonors: readonly ExcludedRow[];
  readonly events: readonly JobEvent[];
  readonly error: string | null;
}
